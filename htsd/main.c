/*
 * main.c - htsd: the DPDK runtime that takes packets to result rows.
 *
 *   htsd --query FILE.htq [--set [Q.]NAME=VALUE]... [--brokers HOST:PORT]
 *        [--topic-prefix P] [-X key=value]... [--metrics HOST:PORT]
 *        [--idle-exit MS] [--flush-timeout MS] -- EAL-ARGUMENTS
 *
 * The shape is DPDK's l3fwd/skeleton: parse, EAL init, mbuf pool, port_init
 * with one RX queue per worker lcore, launch the workers, run the control
 * loop on the main lcore, then stop, close and clean up. rte_exit only during
 * set-up. SIGINT/SIGTERM set rt.force_quit: workers stop receiving and close
 * their windows, the main lcore emits what is left, flushes the sink within
 * --flush-timeout, prints a summary and exits 0 only if every row was
 * delivered.
 */
#include "htx.h"
#include "jit_engine.h"
#include "load.h"
#include "netstate.h"
#include "plan.h"
#include "rowfmt.h"
#include "rt.h"
#include "units.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RX_RING_SIZE 1024
#define NUM_MBUFS 8191
#define MBUF_CACHE_SIZE 250
#define RING_SIZE 4096

static struct rt_global rt = {.ts_offset = -1};

static void on_signal(int sig)
{
    (void)sig;
    rt.force_quit = true;
}

static void usage(FILE *out)
{
    fputs("usage: htsd --query FILE.htq [--query FILE.htq]... [options] -- EAL-ARGS\n"
          "       htsd --plan DIR/NAME.plan.json [--mode raw|report] [options] -- EAL-ARGS\n"
          "  --plan FILE            what htsc compile wrote: the queries and the data\n"
          "                         plane's report layouts\n"
          "  --mode report          the ports carry the data plane's report frames\n"
          "                         (docs/wire-format.md; default with a plan whose\n"
          "                         target is not none); raw: mirrored packets, every\n"
          "                         stage on the host (default otherwise)\n"
          "  --set [Q.]NAME=VALUE   override a query parameter\n"
          "  --brokers HOST:PORT    produce rows to Kafka (default: JSON Lines on stdout;\n"
          "                         'mock' uses librdkafka's in-process mock cluster)\n"
          "  --topic-prefix P       topic per query: P + query name (default hts.)\n"
          "  -X key=value           any librdkafka producer property\n"
          "  --exactly-once[=ID]    produce in Kafka transactions (transactional.id ID,\n"
          "                         default htsd-HOSTNAME-PREFIX): read_committed\n"
          "                         consumers see each row once, also across broker\n"
          "                         restarts (docs/kafka.md)\n"
          "  --commit-interval MS   time between transaction commits (default 100)\n"
          "  --metrics [HOST:]PORT  serve Prometheus text metrics over HTTP, from a thread of\n"
          "                         its own (HOST defaults to 127.0.0.1: loopback only)\n"
          "  --idle-exit MS         stop once no packet arrived for MS ms (captures)\n"
          "  --replay-speed X       replay a capture at X times its own pace (1: as captured)\n"
          "  --max-keys N           keys per stateful operator and window, per worker\n"
          "                         (default 4000000); tuples with new keys past it are\n"
          "                         refused and counted\n"
          "  --flush-timeout MS     how long to wait for deliveries at shutdown (10000)\n"
          "  --export-json          per-packet rows to Kafka as JSON, one per message\n"
          "                         (default: HTX1 batches, docs/export-format.md)\n"
          "  --engine jit|interp    run the queries as native code compiled by LLVM\n"
          "                         (default; what it cannot compile runs in the\n"
          "                         interpreter, and the log names each query's engine)\n"
          "                         or all in the interpreter, for debugging (docs/jit.md);\n"
          "                         report mode always runs the interpreter\n"
          "  --max-delay DUR        out-of-order input: packets wait up to DUR (such as\n"
          "                         200ms) for older ones, in a time-order buffer per\n"
          "                         worker; windows close when the watermark (per port\n"
          "                         the latest time seen minus DUR, the smallest over\n"
          "                         ports and workers) passes them. Default 0: packets\n"
          "                         count in arrival order; those whose window has\n"
          "                         closed are late (counted per query, always reported)\n"
          "  --idle-timeout DUR     a port silent this long stops holding the watermark\n"
          "                         back (default 1s)\n"
          "  --reorder-memory SIZE  the buffer's limit per worker (default 256MiB); past\n"
          "                         it the oldest packets leave early, counted\n"
          "  --late-topic           late packets to topic PREFIX" RT_LATE_TOPIC ", one message\n"
          "                         per packet: a pcap record (docs/kafka.md), so that\n"
          "                         they can be kept\n"
          "  --message-time event|produce\n"
          "                         Kafka message timestamps: the window's end in event\n"
          "                         time (default; per-packet rows: the packet's time) or\n"
          "                         the time of producing. Brokers apply time-based\n"
          "                         retention to message timestamps: rows of an old\n"
          "                         capture replayed with event time can be deleted at\n"
          "                         once (docs/kafka.md)\n"
          "  --site NAME            this htsd is site NAME of the network-wide queries\n"
          "                         (docs/network-wide.md): their windows' state goes\n"
          "                         to topic PREFIX" NS_TOPIC ", and htsmerge makes\n"
          "                         the rows; the other queries' rows as usual\n"
          "  --state-partitions N   partitions of that topic when htsd creates it\n"
          "                         (default 12): the most htsmerge instances that share\n"
          "                         the merge\n"
          "  --site-count N         how many sites run the network-wide queries; needed\n"
          "                         when one of them has approx_count or approx_sum (each\n"
          "                         site keeps the keys heavy at 1/N of the threshold)\n"
          "  -q, --quiet            no summary on stderr (warnings of lost or late\n"
          "                         packets still)\n"
          "EAL example: -- --no-huge --no-pci -m 512 -l 0,1 --vdev net_pcap0,rx_pcap=FILE\n",
          out);
}

static int parse_args(int argc, char **argv, struct rt_options *o)
{
    static const struct option longs[] = {
        {"query", required_argument, 0, 'Q'},
        {"set", required_argument, 0, 's'},
        {"brokers", required_argument, 0, 'b'},
        {"topic-prefix", required_argument, 0, 't'},
        {"metrics", required_argument, 0, 'm'},
        {"idle-exit", required_argument, 0, 'i'},
        {"flush-timeout", required_argument, 0, 'f'},
        {"quiet", no_argument, 0, 'q'},
        {"export-json", no_argument, 0, 'J'},
        {"replay-speed", required_argument, 0, 'R'},
        {"max-keys", required_argument, 0, 'K'},
        {"engine", required_argument, 0, 'E'},
        {"plan", required_argument, 0, 'P'},
        {"mode", required_argument, 0, 'M'},
        {"exactly-once", optional_argument, 0, 'x'},
        {"commit-interval", required_argument, 0, 'C'},
        {"test-slow-worker", required_argument, 0, 'W'},
        {"max-delay", required_argument, 0, 'D'},
        {"idle-timeout", required_argument, 0, 'I'},
        {"reorder-memory", required_argument, 0, 'G'},
        {"message-time", required_argument, 0, 'T'},
        {"late-topic", no_argument, 0, 'L'},
        {"site", required_argument, 0, 'S'},
        {"state-partitions", required_argument, 0, 'N'},
        {"site-count", required_argument, 0, 'U'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->topic_prefix = "hts.";
    o->flush_ms = 10000;
    o->max_keys = 4000000;
    o->engine = NULL; /* jit, or interp in report mode */
    o->idle_timeout_ns = 1000000000;
    o->reorder_mem = (uint64_t)256 << 20;
    o->message_time = "event";
    o->state_partitions = 12;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "X:qh", longs, NULL)) != -1) {
        switch (c) {
        case 'Q':
            if (o->nqueries == 64)
                return -EINVAL;
            o->queries[o->nqueries++] = optarg;
            break;
        case 's':
            if (o->nsets == 64)
                return -EINVAL;
            o->sets[o->nsets++] = optarg;
            break;
        case 'b': o->brokers = optarg; break;
        case 't': o->topic_prefix = optarg; break;
        case 'm': o->metrics = optarg; break;
        case 'i': o->idle_exit_ms = atoi(optarg); break;
        case 'f': o->flush_ms = atoi(optarg); break;
        case 'q': o->quiet = true; break;
        case 'J': o->export_json = true; break;
        case 'R': o->replay_speed = atof(optarg); break;
        case 'K': o->max_keys = strtoull(optarg, NULL, 10); break;
        case 'P': o->plan = optarg; break;
        case 'M': o->mode = optarg; break;
        case 'x':
            o->exactly_once = true;
            o->txn_id = optarg;
            break;
        case 'C': o->commit_ms = atoi(optarg); break;
        case 'W': o->test_worker_delay_us = atoi(optarg); break;
        case 'D':
            if (hts_parse_duration(optarg, &o->max_delay_ns) < 0) {
                fprintf(stderr, "htsd: --max-delay: '%s' is not a duration (such as 200ms)\n", optarg);
                return -EINVAL;
            }
            break;
        case 'I':
            if (hts_parse_duration(optarg, &o->idle_timeout_ns) < 0) {
                fprintf(stderr, "htsd: --idle-timeout: '%s' is not a duration (such as 1s)\n", optarg);
                return -EINVAL;
            }
            break;
        case 'G':
            if (hts_parse_size(optarg, &o->reorder_mem) < 0 || o->reorder_mem < 65536) {
                fprintf(stderr, "htsd: --reorder-memory: '%s' is not a size of 64KiB or more\n", optarg);
                return -EINVAL;
            }
            break;
        case 'L': o->late_topic = true; break;
        case 'S': o->site = optarg; break;
        case 'N':
            o->state_partitions = atoi(optarg);
            if (o->state_partitions < 1 || o->state_partitions > 10000) {
                fprintf(stderr, "htsd: --state-partitions is 1 to 10000\n");
                return -EINVAL;
            }
            break;
        case 'U':
            o->site_count = atoi(optarg);
            if (o->site_count < 1 || o->site_count > 100000) {
                fprintf(stderr, "htsd: --site-count is 1 to 100000\n");
                return -EINVAL;
            }
            break;
        case 'T':
            if (strcmp(optarg, "event") != 0 && strcmp(optarg, "produce") != 0) {
                fprintf(stderr, "htsd: --message-time is event or produce\n");
                return -EINVAL;
            }
            o->message_time = optarg;
            break;
        case 'E':
            if (strcmp(optarg, "interp") != 0 && strcmp(optarg, "jit") != 0) {
                fprintf(stderr, "htsd: --engine is interp or jit\n");
                return -EINVAL;
            }
            o->engine = optarg;
            break;
        case 'X':
            if (o->nkprops == RT_MAX_X || !strchr(optarg, '=')) {
                fprintf(stderr, "htsd: -X needs key=value\n");
                return -EINVAL;
            }
            o->kprops[o->nkprops++] = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "htsd: unexpected argument '%s' (EAL arguments go after --)\n",
                argv[optind]);
        return -EINVAL;
    }
    if ((o->nqueries == 0) == (o->plan == NULL)) {
        fprintf(stderr, "htsd: give either a plan (--plan DIR/NAME.plan.json) or "
                "queries (--query FILE.htq)\n");
        return -EINVAL;
    }
    if (o->mode && strcmp(o->mode, "raw") && strcmp(o->mode, "report")) {
        fprintf(stderr, "htsd: --mode must be raw or report\n");
        return -EINVAL;
    }
    if (o->late_topic && !o->brokers) {
        fprintf(stderr, "htsd: --late-topic needs --brokers\n");
        return -EINVAL;
    }
    if (o->exactly_once && !o->brokers) {
        fprintf(stderr, "htsd: --exactly-once needs --brokers\n");
        return -EINVAL;
    }
    if (o->max_delay_ns > 0 && o->mode && !strcmp(o->mode, "report")) {
        fprintf(stderr, "htsd: --max-delay applies to raw packets; in report mode the data "
                "plane's windows close on its own time (docs/semantics.md)\n");
        return -EINVAL;
    }
    if (o->mode && !strcmp(o->mode, "report") && !o->plan) {
        fprintf(stderr, "htsd: --mode report needs --plan (the report layouts)\n");
        return -EINVAL;
    }
    return 0;
}

/* ---- output: rows to the sink ---- */

static struct rowbuf line, key;

/* The Kafka message timestamp of a row of event time t (ns): t, or 0 (the
 * sink's "now") with --message-time produce. */
static int64_t msg_time(int64_t t)
{
    return rt.opt.message_time[0] == 'p' ? 0 : t;
}

static void emit_row(const struct ir_query *q, int64_t ws, int64_t we,
                     const hts_value *cols, int ncols)
{
    line.n = key.n = 0;
    if (rowfmt_json(rt.fmt, &line, q, ws, we, cols, ncols) < 0 ||
        rowfmt_key(rt.fmt, &key, q, cols, ncols) < 0) {
        rt.rows_dropped++;
        return;
    }
    rt.rows_per_query[q->index]++;
    if (rt.winlat && !q->per_packet)
        winlat_row(rt.winlat, we, rt.pass_ns);
    rt.sink->ops->produce(rt.sink->self, q->name, key.n ? key.p : NULL, key.n,
                          line.p, line.n, msg_time(we));
}

static void on_main_row(void *ctx, const struct ir_query *q, int64_t ws,
                        int64_t we, const hts_value *cols, int ncols)
{
    (void)ctx;
    emit_row(q, ws, we, cols, ncols);
}

static struct rowbuf batch;

/* Monotonic ns from the TSC (set after EAL start-up): a delivery report per
 * row asks the time, and clock_gettime took a sixth of the main lcore's
 * time while a 1M-key window left (perf) */
static uint64_t mono_tsc0, mono_ns0;
static double mono_ns_per_tsc;

static void mono_init(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    mono_tsc0 = rte_rdtsc();
    mono_ns0 = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
    mono_ns_per_tsc = 1e9 / (double)rte_get_tsc_hz();
}

static uint64_t mono_ns(void)
{
    return mono_ns0 + (uint64_t)((double)(rte_rdtsc() - mono_tsc0) * mono_ns_per_tsc);
}

/* the sink's delivery report of a row: its window's latency */
static void on_acked(void *ctx, int64_t ts_ns)
{
    (void)ctx;
    winlat_acked(rt.winlat, ts_ns, mono_ns());
}

/* network-wide queries: the main lcore's merged state of a closed window */
static void on_state(void *ctx, int query, int node, int64_t ws, const hts_value *row,
                     int ncols)
{
    (void)ctx;
    ns_site_row(rt.nsite, query, node, ws, row, ncols);
}

/* Handles message m from row *row on; with a TSC deadline `until` (0: none),
 * stops between rows when it has passed and returns false with *row where
 * to go on. True when m is done (and freed). */
static bool handle_msg(struct rt_worker *w, struct rt_msg *m, int *row, uint64_t until)
{
    if (m->kind == MSG_LATE) { /* --late-topic: one message per packet */
        for (size_t off = 0; off < m->nbytes;) {
            struct rt_late_record r;
            memcpy(&r, m->bytes + off, sizeof r);
            size_t len = sizeof r + r.caplen;
            rt.sink->ops->produce(rt.sink->self, RT_LATE_TOPIC, NULL, 0, m->bytes + off, len,
                                  msg_time((int64_t)r.sec * 1000000000 + r.nsec));
            rt.late_produced++;
            off += len;
        }
        rt_msg_release(w, m);
        return true;
    }
    if (*row == 0)
        rt_msg_fix_strings(m);
    const struct ir_query *q = rt.prog->queries[m->query];
    if (m->kind == MSG_ROWS && q->per_packet && rt.opt.brokers && !rt.opt.export_json) {
        /* per-packet rows: one HTX1 batch per Kafka message */
        batch.n = 0;
        if (htx_encode(&batch, q, m->ws, m->vals, m->nrows, m->ncols) < 0) {
            rt.rows_dropped += (uint64_t)m->nrows;
        } else {
            rt.rows_per_query[q->index] += (uint64_t)m->nrows;
            rt.sink->ops->produce(rt.sink->self, q->name, NULL, 0, batch.p,
                                  batch.n, msg_time(m->ws[0]));
        }
        rt_msg_release(w, m);
        return true;
    }
    for (int r = *row; r < m->nrows; r++) {
        const hts_value *v = &m->vals[(size_t)r * (size_t)m->ncols];
        if (m->kind == MSG_PARTIAL)
            exec_merge(rt.main_x, m->query, m->node, m->window_start, v);
        else
            emit_row(q, m->ws[r], m->we[r], v, m->ncols);
        if (until && r % 16 == 15 && r + 1 < m->nrows && rte_rdtsc() > until) {
            *row = r + 1;
            return false;
        }
    }
    rt_msg_release(w, m);
    return true;
}

/* CPU time of the calling thread: a pass's own work, without the time the
 * system gave other threads (two lcores and the metrics thread can share
 * two cores) */
static uint64_t thread_cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Handles the workers' messages, up to `until` (a TSC deadline, 0: none)
 * checked every 16 rows, so that a flood of rows cannot hold the control loop
 * (metrics, the sink's delivery reports) for long; a message left half
 * done is taken up first next time. *more: not everything was handled. */
static unsigned drain(uint64_t until, bool *more)
{
    static struct rt_msg *cur; /* a message left between rows, and where */
    static int cur_row;
    static struct rt_worker *cur_w; /* whose it is */
    unsigned total = 0;
    *more = false;
    if (cur) {
        if (!handle_msg(cur_w, cur, &cur_row, until)) {
            *more = true;
            return 1;
        }
        cur = NULL;
        total++;
    }
    for (int i = 0; i < rt.nworkers; i++) {
        void *m;
        while (rte_ring_sc_dequeue(rt.workers[i].ring, &m) == 0) {
            int row = 0;
            total++;
            if (!handle_msg(&rt.workers[i], m, &row, until)) {
                cur = m;
                cur_w = &rt.workers[i];
                cur_row = row;
                *more = true;
                return total;
            }
            if (until && rte_rdtsc() > until) {
                *more = true;
                return total;
            }
        }
    }
    return total;
}

/* ---- set-up ---- */

static int port_init(uint16_t port, struct rte_mempool *pool, int nq)
{
    struct rte_eth_conf conf;
    struct rte_eth_dev_info info;
    memset(&conf, 0, sizeof conf);
    int rc = rte_eth_dev_info_get(port, &info);
    if (rc != 0)
        return rc;
    if (nq > info.max_rx_queues) {
        fprintf(stderr, "htsd: port %u has %u RX queues, %d workers need one each\n",
                port, info.max_rx_queues, nq);
        return -EINVAL;
    }
    if (nq > 1 && info.flow_type_rss_offloads) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP |
                                            RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    }
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)
        conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
    /* net_pcap replays the capture's own times, in microseconds; a NIC's
     * timestamps count device ticks, so for NICs we use the host clock */
    for (int p = 0; p < rt.nports; p++)
        if (rt.ports[p] == port)
            rt.ts_scale[p] = strcmp(info.driver_name, "net_pcap") == 0 ? 1000 : 0;
    rc = rte_eth_dev_configure(port, (uint16_t)nq, 1, &conf);
    if (rc != 0)
        return rc;
    uint16_t nrx = RX_RING_SIZE, ntx = 512;
    rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
    for (int q = 0; q < nq; q++) {
        rc = rte_eth_rx_queue_setup(port, (uint16_t)q, nrx, rte_eth_dev_socket_id(port),
                                    NULL, pool);
        if (rc < 0)
            return rc;
    }
    rc = rte_eth_tx_queue_setup(port, 0, ntx, rte_eth_dev_socket_id(port), NULL);
    if (rc < 0)
        return rc;
    rc = rte_eth_dev_start(port);
    if (rc < 0)
        return rc;
    rte_eth_promiscuous_enable(port); /* a mirror port sees others' traffic */
    return 0;
}

/* Packets the ports dropped: imissed + ierrors + rx_nombuf over every port. */
static uint64_t ports_missed(void)
{
    uint64_t missed = 0;
    for (int p = 0; p < rt.nports; p++) {
        struct rte_eth_stats es;
        if (rte_eth_stats_get(rt.ports[p], &es) == 0)
            missed += es.imissed + es.ierrors + es.rx_nombuf;
    }
    return missed;
}

/* Late packets are never lost without a word: per query, on stderr, also
 * with --quiet. */
static void report_late(void)
{
    uint64_t forced = 0, late = 0;
    for (int i = 0; i < rt.nworkers; i++)
        forced += atomic_load(&rt.workers[i].forced_pub);
    for (int q = 0; q < rt.prog->nqueries; q++)
        late += rt_late(&rt, q);
    if (forced)
        fprintf(stderr, "htsd: warning: the --max-delay buffer was full (--reorder-memory "
                "%llu): %llu packets left it before their delay had passed\n",
                (unsigned long long)rt.opt.reorder_mem, (unsigned long long)forced);
    if (rt.opt.late_topic)
        fprintf(stderr, "htsd: %llu late packets produced to %s%s\n",
                (unsigned long long)rt.late_produced, rt.opt.topic_prefix, RT_LATE_TOPIC);
    if (!late)
        return;
    fprintf(stderr, "htsd: warning: packets came after their window had closed (late, "
            "not counted in it):");
    for (int q = 0; q < rt.prog->nqueries; q++)
        if (rt_late(&rt, q))
            fprintf(stderr, " %s %llu", rt.prog->queries[q]->name,
                    (unsigned long long)rt_late(&rt, q));
    fputc('\n', stderr);
}

static void summary(int undelivered, uint64_t missed)
{
    struct rt_sink_counters c;
    uint64_t pkts = 0, ring_full = 0;
    struct hts_decode_stats ds = {0};
    rt.sink->ops->counters(rt.sink->self, &c);
    for (int i = 0; i < rt.nworkers; i++) {
        pkts += rt.workers[i].packets;
        ring_full += rt.workers[i].ring_full;
        for (int e = 0; e < DEC__COUNT; e++)
            ds.errors[e] += rt.workers[i].ds.errors[e];
    }
    const struct exec_stats *st = exec_stats(rt.main_x);
    uint64_t refused = st->table_full;
    for (int i = 0; i < rt.nworkers; i++)
        refused += exec_stats(rt.workers[i].x)->table_full;
    if (refused || missed)
        fprintf(stderr, "htsd: overload: %llu packets missed by the ports, %llu tuples "
                "refused by full tables (--max-keys %llu): those windows are incomplete\n",
                (unsigned long long)missed, (unsigned long long)refused,
                (unsigned long long)rt.opt.max_keys);
    uint64_t rows = 0, late = 0;
    for (int q = 0; q < rt.prog->nqueries; q++) {
        rows += rt.rows_per_query[q];
        late += rt_late(&rt, q);
    }
    fprintf(stderr, "htsd: %llu packets, %llu rows in %llu messages; %s: %llu delivered, "
            "%llu failed, %d undelivered at exit; %llu rows dropped, %llu late\n",
            (unsigned long long)pkts, (unsigned long long)rows,
            (unsigned long long)c.produced, rt.sink->name,
            (unsigned long long)c.delivered, (unsigned long long)c.failed, undelivered,
            (unsigned long long)rt.rows_dropped, (unsigned long long)late);
    if (c.txn_commits || c.txn_aborts)
        fprintf(stderr, "htsd: %s: %llu transactions committed, %llu aborted and sent "
                "again\n", rt.sink->name, (unsigned long long)c.txn_commits,
                (unsigned long long)c.txn_aborts);
    for (int e = 0; e < DEC__COUNT; e++)
        if (ds.errors[e])
            fprintf(stderr, "htsd: decode: %llu %s\n", (unsigned long long)ds.errors[e],
                    hts_decode_err_text[e]);
    if (c.broker_down || c.last_error[0])
        fprintf(stderr, "htsd: %s: %s\n", rt.sink->name,
                c.last_error[0] ? c.last_error : "all brokers down");
    if (rt.nsite) {
        struct ns_site_stats ns;
        ns_site_stats(rt.nsite, &ns);
        fprintf(stderr, "htsd: site %s: %llu state rows of network-wide queries in %llu "
                "messages (%llu watermarks) to %s" NS_TOPIC " (%d partitions)\n",
                rt.opt.site, (unsigned long long)ns.rows, (unsigned long long)ns.messages,
                (unsigned long long)ns.watermarks, rt.opt.topic_prefix, (int)ns.partitions);
    }
    if (rt.winlat) {
        struct winlat_stats ws;
        winlat_stats(rt.winlat, &ws);
        if (ws.windows)
            fprintf(stderr, "htsd: window latency (event time past a window's end -> its "
                    "last row acknowledged): %zu windows, p50 %.3f ms, p99 %.3f ms, max "
                    "%.3f ms%s\n", ws.windows, ws.p50_ms, ws.p99_ms, ws.max_ms,
                    ws.incomplete ? " (windows not all acknowledged left out)" : "");
        else if (ws.incomplete)
            fprintf(stderr, "htsd: window latency: no window had every row acknowledged "
                    "(%zu windows)\n", ws.incomplete);
    }
    fprintf(stderr, "htsd: control loop: longest pass %.3f ms of CPU, %.3f ms of wall time\n",
            (double)rt.loop_max_cpu_ns / 1e6, (double)rt.loop_max_ns / 1e6);
    (void)ring_full;
}

int main(int argc, char **argv)
{
    /* htsd's own options end at "--"; what follows belongs to the EAL */
    int split = argc;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            split = i;
            break;
        }
    /* The main lcore frees a hand-over batch for every 256 rows: without
     * this, glibc gives memory back to the kernel and faults it in again
     * all the time (docs/benchmarks.md: +57% export rate into Kafka). */
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    if (parse_args(split, argv, &rt.opt) < 0) {
        usage(stderr);
        return 2;
    }
    /* the queries, checked like htsc check does */
    static struct arena arena;
    static struct src_file *srcs[HTS_MAX_FILES];
    if (rt.opt.plan) {
        char perr[512];
        rt.plan = plan_load(rt.opt.plan, perr, sizeof perr);
        if (!rt.plan) {
            fprintf(stderr, "htsd: %s\n", perr);
            return 1;
        }
        rt.prog = (struct ir_program *)rt.plan->prog;
        rt.report_mode = rt.opt.mode ? !strcmp(rt.opt.mode, "report")
                                     : strcmp(rt.plan->target, "none") != 0;
        if (rt.report_mode && rt.opt.max_delay_ns > 0) {
            fprintf(stderr, "htsd: --max-delay applies to raw packets; in report mode the "
                    "data plane's windows close on its own time (docs/semantics.md)\n");
            return 2;
        }
        if (rt.report_mode && rt.opt.engine && strcmp(rt.opt.engine, "interp") != 0)
            fprintf(stderr, "htsd: report mode runs the interpreter (the JIT "
                    "compiles packet decoding, not reports)\n");
        if (rt.report_mode)
            rt.opt.engine = "interp";
    } else {
        rt.prog = hts_load(rt.opt.queries, rt.opt.nqueries, rt.opt.sets,
                           rt.opt.nsets, &arena, srcs, stderr);
    }
    if (!rt.prog)
        return 1;
    if (!rt.opt.engine)
        rt.opt.engine = "jit";
    /* --engine jit: one native function for every worker; the report says
     * which queries it runs and why the others stay in the interpreter */
    struct jit_prog *jp = NULL;
    if (strcmp(rt.opt.engine, "jit") == 0) {
        char jerr[512];
        struct jit_opts jo = {.linktype = HTS_DLT_EN10MB, .max_keys = rt.opt.max_keys};
        jp = jit_compile(rt.prog, &jo, jerr, sizeof jerr);
        if (!jp)
            fprintf(stderr, "htsd: %s; every query runs in the interpreter\n", jerr);
        else
            jit_report(jp, stderr, "htsd: jit: ");
    }

    char **eal_argv = calloc((size_t)(argc - split + 2), sizeof *eal_argv);
    int eal_argc = 0;
    if (!eal_argv)
        rt_fatal_oom();
    eal_argv[eal_argc++] = argv[0];
    for (int i = split + 1; i < argc; i++)
        eal_argv[eal_argc++] = argv[i];
    if (rte_eal_init(eal_argc, eal_argv) < 0)
        rte_exit(EXIT_FAILURE, "htsd: cannot initialise the EAL (arguments after --)\n");
    mono_init();
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN); /* a closed socket is an error return, not death */

    rt.nworkers = (int)rte_lcore_count() - 1;
    if (rt.nworkers < 1)
        rte_exit(EXIT_FAILURE, "htsd: need a main lcore and at least one worker (-l 0,1)\n");
    uint16_t pid;
    RTE_ETH_FOREACH_DEV(pid) {
        if (rt.nports < RT_MAX_PORTS)
            rt.ports[rt.nports++] = pid;
    }
    if (rt.nports == 0)
        rte_exit(EXIT_FAILURE, "htsd: no port (give a NIC, or --vdev net_pcap0,rx_pcap=FILE)\n");
    struct rte_mempool *pool = rte_pktmbuf_pool_create(
        "mbufs", NUM_MBUFS * (unsigned)rt.nports, MBUF_CACHE_SIZE, 0,
        RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
    if (!pool)
        rte_exit(EXIT_FAILURE, "htsd: cannot create the mbuf pool\n");
    if (rte_mbuf_dyn_rx_timestamp_register(&rt.ts_offset, &rt.ts_flag) != 0)
        rt.ts_offset = -1;
    for (int p = 0; p < rt.nports; p++) {
        int rc = port_init(rt.ports[p], pool, rt.nworkers);
        if (rc != 0)
            rte_exit(EXIT_FAILURE, "htsd: cannot start port %u: %s\n", rt.ports[p],
                     rte_strerror(-rc));
    }

    rt.rows_per_query = calloc((size_t)rt.prog->nqueries, sizeof *rt.rows_per_query);
    rt.main_x = exec_new(rt.prog, on_main_row, NULL);
    rt.fmt = rowfmt_new(rt.prog);
    if (!rt.rows_per_query || !rt.main_x || !rt.fmt)
        rt_fatal_oom();
    exec_set_max_keys(rt.main_x, rt.opt.max_keys);
    char why[512];
    if (rt.report_mode && rt.nworkers > 1)
        rte_exit(EXIT_FAILURE, "htsd: report mode takes one worker (-l 0,1): the "
                 "data plane's window rows are final per window, not partial "
                 "state to merge\n");
    if (rt.nworkers > 1 && !exec_mergeable(rt.main_x, why, sizeof why))
        rte_exit(EXIT_FAILURE, "htsd: %s; run with one worker (-l 0,1)\n", why);
    int nnw = 0;
    for (int q = 0; q < rt.prog->nqueries; q++)
        nnw += rt.prog->queries[q]->network_wide;
    if (nnw && !rt.opt.site)
        rte_exit(EXIT_FAILURE, "htsd: %d of the queries are network-wide: name this "
                 "site with --site NAME (docs/network-wide.md)\n", nnw);
    if (rt.opt.site && !nnw)
        rte_exit(EXIT_FAILURE, "htsd: --site applies to network-wide queries, and none "
                 "of these is (declare one with 'network-wide' after its window)\n");
    int nsketch = 0;
    for (int q = 0; q < rt.prog->nqueries; q++)
        for (int k = 0; rt.prog->queries[q]->network_wide && k < rt.prog->queries[q]->nnodes; k++)
            nsketch += rt.prog->queries[q]->nodes[k]->sketch;
    if (nsketch && !rt.opt.site_count)
        rte_exit(EXIT_FAILURE, "htsd: a network-wide query has approx_count or "
                 "approx_sum: say how many sites run it with --site-count N (a key "
                 "heavy over all sites is heavy at 1/N of the threshold at one of "
                 "them, docs/network-wide.md)\n");
    if (rt.opt.site_count && !nsketch)
        rte_exit(EXIT_FAILURE, "htsd: --site-count applies to network-wide queries "
                 "with approx_count or approx_sum, and none of these has one\n");
    if (nnw && rt.report_mode)
        rte_exit(EXIT_FAILURE, "htsd: network-wide queries run on mirrored packets "
                 "(--mode raw): the data plane's window rows are final, not state to "
                 "merge\n");
    if (nnw && !exec_mergeable(rt.main_x, why, sizeof why))
        rte_exit(EXIT_FAILURE, "htsd: %s; a site of network-wide queries hands its "
                 "state over: run that query in an htsd of its own\n", why);
    char err[512] = "";
    char txn_id[512];
    if (rt.opt.exactly_once && !rt.opt.txn_id) {
        char host[256] = "htsd";
        gethostname(host, sizeof host - 1);
        snprintf(txn_id, sizeof txn_id, "htsd-%s-%s", host, rt.opt.topic_prefix);
        rt.opt.txn_id = txn_id;
    }
    if (rt.opt.exactly_once)
        rt.sink = rt_sink_kafka_txn(rt.opt.brokers, rt.opt.topic_prefix, rt.opt.kprops,
                                    rt.opt.nkprops, rt.opt.txn_id, rt.opt.commit_ms, err,
                                    sizeof err);
    else
        rt.sink = rt.opt.brokers
                      ? rt_sink_kafka(rt.opt.brokers, rt.opt.topic_prefix, rt.opt.kprops,
                                      rt.opt.nkprops, err, sizeof err)
                      : rt_sink_stdout(stdout);
    if (!rt.sink)
        rte_exit(EXIT_FAILURE, "htsd: %s\n", err[0] ? err : "cannot create the sink");
    if (nnw) {
        rt.nsite = ns_site_new(rt.prog, rt.sink, rt.opt.site, rt.opt.state_partitions, err,
                               sizeof err);
        if (!rt.nsite)
            rte_exit(EXIT_FAILURE, "htsd: --site %s: %s\n", rt.opt.site, err);
        exec_set_partial(rt.main_x, on_state, NULL);
        for (int q = 0; q < rt.prog->nqueries; q++)
            exec_set_partial_query(rt.main_x, q, rt.prog->queries[q]->network_wide);
    }
    if (!strcmp(rt.opt.message_time, "event") && rt.sink->ops->on_delivered) {
        int64_t hop = 0;
        for (int q = 0; q < rt.prog->nqueries; q++) {
            int64_t h = rt.prog->queries[q]->hop_ns;
            if (h > 0 && (!hop || h < hop))
                hop = h;
        }
        if (hop && !(rt.winlat = winlat_new(hop)))
            rt_fatal_oom();
        if (rt.winlat)
            rt.sink->ops->on_delivered(rt.sink->self, on_acked, NULL);
    }
    if (rt.opt.metrics && rt_metrics_open(&rt, rt.opt.metrics, err, sizeof err) < 0)
        rte_exit(EXIT_FAILURE, "htsd: --metrics %s: %s\n", rt.opt.metrics, err);

    unsigned lcore;
    int wi = 0;
    RTE_LCORE_FOREACH_WORKER(lcore) {
        struct rt_worker *w = &rt.workers[wi];
        char name[32];
        snprintf(name, sizeof name, "htsd_w%d", wi);
        w->rt = &rt;
        w->index = wi;
        w->lcore = lcore;
        w->ring = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(),
                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
        snprintf(name, sizeof name, "htsd_f%d", wi);
        w->free_ring = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(),
                                       RING_F_SP_ENQ | RING_F_SC_DEQ);
        w->x = exec_new(rt.prog, rt_worker_row, w);
        if (!w->ring || !w->free_ring || !w->x)
            rte_exit(EXIT_FAILURE, "htsd: cannot set up worker %d\n", wi);
        exec_set_max_keys(w->x, rt.opt.max_keys);
        /* approx_count/approx_sum: each worker (of each site) sees a part */
        exec_set_sketch_parts(w->x, rt.nworkers * (rt.opt.site_count ? rt.opt.site_count : 1));
        w->eng = jp ? eng_new_jit(jp, w->x, rt_worker_row, w, &w->ds)
                    : eng_new_interp(w->x, HTS_DLT_EN10MB, &w->ds);
        w->late_q = calloc((size_t)rt.prog->nqueries + 1, sizeof *w->late_q);
        if (rt.opt.max_delay_ns > 0)
            w->ro = hts_reorder_new(rt.opt.reorder_mem);
        if (!w->eng || !w->late_q || (rt.opt.max_delay_ns > 0 && !w->ro))
            rte_exit(EXIT_FAILURE, "htsd: cannot set up worker %d\n", wi);
        wi++;
    }
    for (int i = 0; i < rt.nworkers; i++)
        rte_eal_remote_launch(rt_worker_main, &rt.workers[i], rt.workers[i].lcore);

    /* the control loop */
    const uint64_t tsc_hz = rte_get_tsc_hz();
    const uint64_t drain_budget = tsc_hz / 1000; /* 1 ms of messages per pass */
    for (;;) {
        uint64_t pass0 = rte_rdtsc(); /* a pass: its work, not its sleep */
        rt.pass_ns = mono_ns();
        uint64_t cpu0 = thread_cpu_ns();
        int64_t upto = INT64_MAX;
        bool all_done = true;
        for (int i = 0; i < rt.nworkers; i++) {
            int64_t c = atomic_load_explicit(&rt.workers[i].closed, memory_order_acquire);
            if (c < upto)
                upto = c;
            all_done &= atomic_load_explicit(&rt.workers[i].done, memory_order_acquire);
        }
        bool more;
        unsigned n = drain(pass0 + drain_budget, &more);
        /* advance only when everything handed over before `closed` was read
         * has been handled: else next pass, with `closed` read again */
        if (upto != INT64_MAX && !more) {
            if (rt.winlat)
                winlat_advance(rt.winlat, upto, rt.pass_ns);
            exec_advance(rt.main_x, upto);
            if (rt.nsite)
                ns_site_watermark(rt.nsite, exec_watermark(rt.main_x), false);
        }
        rt.sink->ops->poll(rt.sink->self);
        if (rt.opt.metrics)
            rt_metrics_poll();
        if (all_done && n == 0 && !more && drain(0, &more) == 0)
            break;
        uint64_t pass_ns = (rte_rdtsc() - pass0) * 1000000000ull / tsc_hz;
        uint64_t cpu_ns = thread_cpu_ns() - cpu0;
        if (pass_ns > rt.loop_max_ns)
            rt.loop_max_ns = pass_ns;
        if (cpu_ns > rt.loop_max_cpu_ns)
            rt.loop_max_cpu_ns = cpu_ns;
        if (n == 0)
            rte_delay_us_sleep(200);
    }
    rte_eal_mp_wait_lcore();
    rt.pass_ns = mono_ns();
    if (rt.winlat) /* the end of input ends every window still open */
        winlat_advance(rt.winlat, INT64_MAX, rt.pass_ns);
    exec_finish(rt.main_x);
    if (rt.nsite) /* the last windows' state, then: this site is done */
        ns_site_watermark(rt.nsite, NS_DONE, true);
    int undelivered = rt.sink->ops->flush(rt.sink->self, rt.opt.flush_ms);
    if (undelivered && rt.sink->ops->abandon) /* name every row given up on */
        rt.sink->ops->abandon(rt.sink->self);
    struct rt_sink_counters c;
    rt.sink->ops->counters(rt.sink->self, &c);
    uint64_t missed = ports_missed();
    if (!rt.opt.quiet)
        summary(undelivered, missed);
    report_late();
    int rc = (undelivered == 0 && c.failed == 0 && rt.rows_dropped == 0) ? 0 : 1;
    /* an incomplete answer is an error too: the summary said where */
    for (int i = 0; i < rt.nworkers; i++)
        if (exec_stats(rt.workers[i].x)->table_full)
            rc = 1;
    if (exec_stats(rt.main_x)->table_full || missed)
        rc = 1;

    for (int p = 0; p < rt.nports; p++) {
        rte_eth_dev_stop(rt.ports[p]);
        rte_eth_dev_close(rt.ports[p]);
    }
    if (rt.opt.metrics)
        rt_metrics_close();
    for (int i = 0; i < rt.nworkers; i++) {
        eng_free(rt.workers[i].eng);
        exec_free(rt.workers[i].x);
        if (rt.workers[i].feeder) { /* after x: its versions run the feeder's plans */
            host_feeder_free(rt.workers[i].feeder);
            free(rt.workers[i].feeder);
        }
        hts_reorder_free(rt.workers[i].ro);
        free(rt.workers[i].late_q);
        rte_ring_free(rt.workers[i].ring);
        void *fm;
        while (rte_ring_sc_dequeue(rt.workers[i].free_ring, &fm) == 0)
            rt_msg_free(fm);
        rte_ring_free(rt.workers[i].free_ring);
    }
    exec_free(rt.main_x);
    ns_site_free(rt.nsite);
    winlat_free(rt.winlat);
    rowfmt_free(rt.fmt);
    jit_free(jp);
    rt_sink_free(rt.sink);
    rowbuf_free(&line);
    rowbuf_free(&key);
    rowbuf_free(&batch);
    free(rt.rows_per_query);
    free(eal_argv);
    for (int i = 0; i < rt.opt.nqueries; i++)
        src_free(srcs[i]);
    arena_free(&arena);
    rte_eal_cleanup();
    return rc;
}
