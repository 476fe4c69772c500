/*
 * htsd.h - the DPDK runtime's shared state: options, workers, messages.
 *
 * Threads (lcores), after DPDK's examples: one main lcore (control, window
 * emission, output, Kafka polling, metrics) and N worker lcores. Each worker
 * owns one RX queue of every port and its own executor in partial mode: no
 * locks and no allocation per packet, bursts of 32. When a worker's window
 * closes, it hands the window's partial state to the main lcore through its
 * own single-producer ring; per-packet rows (export) travel in batches the
 * same way. The main lcore merges, and emits a window once every worker has
 * closed it (rt_worker.closed), so rows equal the reference executor's for
 * any number of workers.
 *
 *   worker i: rx burst -> decode -> exec (partial) -> ring i ─┐
 *   worker j: rx burst -> decode -> exec (partial) -> ring j ─┴-> main: merge,
 *                                                   close windows, output
 */
#ifndef HTS_HTSD_H
#define HTS_HTSD_H

#include "exec.h"
#include "host.h"
#include "ir.h"
#include "packet.h"
#include "plan.h"
#include "report.h"
#include "reorder.h"

#include <rte_common.h>
#include <rte_ring.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define RT_BURST 32
#define RT_MAX_WORKERS 64
#define RT_MAX_PORTS 16
#define RT_MAX_X 64

struct rt_options {
    const char *queries[64]; /* --query FILE.htq */
    int nqueries;
    const char *sets[64]; /* --set [Q.]NAME=VALUE */
    int nsets;
    const char *brokers;      /* NULL: rows to stdout as JSON Lines */
    const char *topic_prefix; /* default "hts." */
    const char *kprops[RT_MAX_X]; /* -X key=value */
    int nkprops;
    const char *metrics; /* HOST:PORT or NULL */
    int idle_exit_ms;    /* > 0: stop after this long without packets */
    int flush_ms;        /* Kafka flush timeout at shutdown */
    bool quiet;
    bool export_json; /* per-packet rows to Kafka as JSON, not HTX1 batches */
    const char *plan;    /* --plan */
    const char *mode;    /* --mode raw|report, NULL: from the plan's target */
    double replay_speed; /* > 0: pace packets by their timestamps (1 = as captured) */
    unsigned long long max_keys; /* per stateful operator, window and executor */
    const char *engine; /* --engine: "interp" (default) or "jit" (jit_engine.h) */
    bool exactly_once;  /* --exactly-once[=ID]: Kafka transactions */
    const char *txn_id; /* transactional.id; NULL: htsd-HOSTNAME-PREFIX */
    int commit_ms;      /* --commit-interval: ms between transaction commits */
    int test_worker_delay_us; /* --test-slow-worker: fault injection (tests) */
    int64_t max_delay_ns;     /* --max-delay: > 0, packets wait in a time-order
                               * buffer per worker (core/reorder.h) until the
                               * watermark passes them */
    int64_t idle_timeout_ns;  /* --idle-timeout: a port silent this long no
                               * longer holds the watermark back */
    uint64_t reorder_mem;     /* --reorder-memory: bytes per worker's buffer */
    bool late_topic;          /* --late-topic: late packets to PREFIX + late-packets */
    const char *message_time; /* --message-time event|produce */
    const char *site;         /* --site: this htsd's name among the sites of
                               * network-wide queries (netsite.h) */
    int state_partitions;     /* --state-partitions: when creating the topic */
    int site_count;           /* --site-count: sites of the network-wide
                               * queries (approx_count/approx_sum need it) */
};

/* Messages from a worker to the main lcore (one allocation per window per
 * stateful node, or per batch of per-packet rows: never per packet). */
enum rt_msg_kind { MSG_PARTIAL, MSG_ROWS, MSG_LATE };

struct rt_msg {
    enum rt_msg_kind kind;
    int query, node;
    int64_t window_start;
    int ncols, nrows;
    hts_value *vals; /* nrows * ncols values; string bytes in `bytes` */
    int64_t *ws, *we; /* MSG_ROWS: window bounds per row */
    uint8_t *bytes; /* MSG_LATE: packets as pcap records (rt_late_record) */
    size_t nbytes, capbytes;
    int caprows;
};

/* --late-topic: a late packet as a nanosecond pcap record, little-endian:
 * seconds, nanoseconds, captured length, wire length, then the frame. A
 * consumer writes a pcap file by putting a nanosecond pcap header (magic
 * 0xa1b23c4d, link type 1) in front of the messages' values. */
struct rt_late_record {
    uint32_t sec, nsec, caplen, wirelen;
};

/* per-worker counters and progress, written by the worker only */
struct rt_global;
struct rt_worker {
    const struct rt_global *rt; /* the process's state (rt.h), read-only */
    unsigned lcore;
    int index;
    struct rte_ring *ring; /* worker -> main */
    struct rte_ring *free_ring; /* main -> worker: messages handled, to reuse
                                 * (rt_msg_release): no malloc per batch */
    uint64_t recycled;          /* messages reused from free_ring */
    struct exec *x;
    struct eng *eng; /* runs the packets over x: interpreter or JIT (jit_engine.h) */
    struct hts_decode_stats ds;
    uint64_t packets, bytes, bursts, ring_full;
    struct rt_msg *batch; /* per-packet rows being filled */
    uint64_t batch_tsc;   /* when its first row came */
    struct host_feeder *feeder; /* report mode */
    struct rep_stats rs;        /* report frames seen, refused by reason */
    uint64_t pace_ts0, pace_tsc0; /* --replay-speed: first packet's time, TSC */
    /* --max-delay: the time-order buffer, and per port the latest time
     * and when its last packet came (TSC) */
    struct hts_reorder *ro;
    uint64_t port_latest[RT_MAX_PORTS], port_rx_tsc[RT_MAX_PORTS];
    int64_t advanced;       /* the watermark the engine was last moved to */
    bool all_idle;          /* every port silent for --idle-timeout */
    uint64_t loops;
    uint64_t forced;        /* packets out of a full buffer before their time */
    _Atomic uint64_t *late_q; /* per query, published for the main lcore */
    int64_t late_thr;       /* --late-topic: the engine's event time, as its
                             * late rule sees it */
    struct rt_msg *late_msg; /* --late-topic: late packets being batched */
    _Atomic uint64_t forced_pub;
    _Atomic int64_t seen;   /* latest packet time (with --max-delay: the
                             * worker's watermark) */
    _Atomic int64_t closed; /* every window ending at or before this is handed over */
    _Atomic uint64_t last_rx_tsc;
    _Atomic bool done;
} __rte_cache_aligned;

/* worker.c */
int rt_worker_main(void *arg);
/* the workers' row callback (exec_row_fn): per-packet rows, in batches */
void rt_worker_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                   const hts_value *cols, int ncols);
void rt_msg_free(struct rt_msg *m);

#endif
