/*
 * worker.c - a worker lcore: receive, decode, execute, hand over.
 *
 * The loop is DPDK's skeleton: bursts of 32 from the worker's own RX queue of
 * every port, prefetching the next frame while decoding this one. The
 * executor runs in partial mode (exec_set_partial), so the only things that
 * leave the worker are window state at window close and batches of
 * per-packet rows; both go through the worker's single-producer ring. A full
 * ring stalls the worker (counted) rather than dropping: the main lcore never
 * loses a window's state.
 *
 * Event time: the worker publishes the latest packet time it has seen and
 * the time up to which it has handed over every window. An idle worker (no
 * packets in its queue) follows the other workers' time so that it does not
 * hold back the windows the main lcore can close.
 *
 * With --max-delay D, packets are copied into a time-order buffer
 * (core/reorder.h) and their mbufs freed at once; the worker's watermark is
 * the smallest, over its ports, of the latest time seen minus D, leaving out
 * ports silent for --idle-timeout (all silent: everything leaves). Packets
 * leave in time order once the watermark has passed them, the engine's event
 * time follows the watermark, and what the worker publishes as its time is
 * the watermark, so the main lcore closes a window only when every worker's
 * watermark has passed it. A full buffer lets its oldest packets out early,
 * counted (htsd_reorder_forced_total).
 */
#include "htsd.h"
#include "rt.h"
#include "jit_engine.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rt_msg_free(struct rt_msg *m)
{
    if (!m)
        return;
    free(m->vals);
    free(m->ws);
    free(m->we);
    free(m->bytes);
    free(m);
}

#define RT_PREFETCH 4 /* frames prefetched ahead of the one being read */

void rt_msg_release(struct rt_worker *w, struct rt_msg *m)
{
    if (m->kind == MSG_LATE || !w->free_ring || rte_ring_sp_enqueue(w->free_ring, m) != 0)
        rt_msg_free(m);
}

/* A message of this shape: one the main lcore handed back, else a new one. */
static struct rt_msg *msg_new(struct rt_worker *w, enum rt_msg_kind kind, int ncols,
                              int caprows)
{
    void *p;
    while (w->free_ring && rte_ring_sc_dequeue(w->free_ring, &p) == 0) {
        struct rt_msg *r = p;
        if (r->kind == kind && r->ncols == ncols && r->caprows == caprows) {
            r->nrows = 0;
            r->nbytes = 0; /* the string buffer stays, for the next rows */
            w->recycled++;
            return r;
        }
        rt_msg_free(r); /* another shape: another query's */
    }
    struct rt_msg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->kind = kind;
    m->ncols = ncols;
    m->caprows = caprows;
    /* every slot used is written before it is read: no zeroing */
    m->vals = malloc((size_t)(caprows * (ncols ? ncols : 1)) * sizeof *m->vals);
    if (kind == MSG_ROWS) {
        m->ws = malloc((size_t)caprows * sizeof *m->ws);
        m->we = malloc((size_t)caprows * sizeof *m->we);
    }
    if (!m->vals || (kind == MSG_ROWS && (!m->ws || !m->we))) {
        rt_msg_free(m);
        return NULL;
    }
    return m;
}

/* Copies row into m (string bytes into m->bytes, re-pointed at the end). */
static bool msg_add_row(struct rt_msg *m, const hts_value *row)
{
    if (m->nrows == m->caprows)
        return false;
    hts_value *dst = &m->vals[(size_t)m->nrows * (size_t)m->ncols];
    for (int c = 0; c < m->ncols; c++) {
        dst[c] = row[c];
        if (row[c].present && row[c].type == TY_STR) {
            size_t need = m->nbytes + row[c].u.s.n;
            if (need > m->capbytes) {
                size_t cap = m->capbytes ? m->capbytes * 2 : 4096;
                while (cap < need)
                    cap *= 2;
                uint8_t *b = realloc(m->bytes, cap);
                if (!b)
                    return false;
                m->bytes = b;
                m->capbytes = cap;
            }
            memcpy(m->bytes + m->nbytes, row[c].u.s.p, row[c].u.s.n);
            /* an offset for now: pointers are fixed on the main lcore */
            dst[c].u.s.p = (const uint8_t *)(uintptr_t)m->nbytes;
            m->nbytes = need;
        }
    }
    m->nrows++;
    return true;
}

void rt_msg_fix_strings(struct rt_msg *m)
{
    if (!m->nbytes) /* no string in this message: nothing to re-point */
        return;
    for (size_t i = 0; i < (size_t)m->nrows * (size_t)m->ncols; i++)
        if (m->vals[i].present && m->vals[i].type == TY_STR)
            m->vals[i].u.s.p = m->bytes + (uintptr_t)m->vals[i].u.s.p;
}

static void send_msg(struct rt_worker *w, struct rt_msg *m)
{
    while (rte_ring_sp_enqueue(w->ring, m) != 0) {
        w->ring_full++; /* the main lcore is behind: wait, never drop */
        rte_pause();
    }
}

static void flush_batch(struct rt_worker *w)
{
    if (w->batch && w->batch->nrows) {
        send_msg(w, w->batch);
        w->batch = NULL;
    }
}

/* partial window state from the worker's executor */
static void on_partial(void *ctx, int query, int node, int64_t ws,
                       const hts_value *row, int ncols)
{
    struct rt_worker *w = ctx;
    /* one message per row keeps this simple; windows close rarely */
    struct rt_msg *m = msg_new(w, MSG_PARTIAL, ncols, 1);
    if (!m || !msg_add_row(m, row)) {
        rt_fatal_oom();
    }
    m->query = query;
    m->node = node;
    m->window_start = ws;
    send_msg(w, m);
}

/* a per-packet row (export, per-packet filters): batched */
void rt_worker_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                   const hts_value *cols, int ncols)
{
    struct rt_worker *w = ctx;
    if (w->batch && (w->batch->query != q->index || w->batch->nrows == w->batch->caprows))
        flush_batch(w);
    if (!w->batch) {
        w->batch = msg_new(w, MSG_ROWS, ncols, 256);
        if (!w->batch)
            rt_fatal_oom();
        w->batch->query = q->index;
        w->batch_tsc = rte_get_tsc_cycles();
    }
    w->batch->ws[w->batch->nrows] = ws;
    w->batch->we[w->batch->nrows] = we;
    if (!msg_add_row(w->batch, cols))
        rt_fatal_oom();
}

/* Event time of a frame: the capture time a pcap port replays (DPDK's
 * net_pcap stamps microseconds), else the host's clock at reception, read
 * once per burst (*now: 0 until then): a clock read per packet took a third
 * of the worker's time. */
static inline uint64_t mbuf_ts(const struct rt_global *rt, struct rte_mbuf *m, int p,
                               uint64_t *now)
{
    if (rt->ts_scale[p] && rt->ts_offset >= 0 && (m->ol_flags & rt->ts_flag))
        return *RTE_MBUF_DYNFIELD(m, rt->ts_offset, rte_mbuf_timestamp_t *) *
               rt->ts_scale[p];
    if (!*now)
        *now = rt_wallclock_ns();
    return *now;
}

/* --replay-speed: hold each packet until the host clock, scaled, has moved
 * as far as the capture's time since the worker's first packet */
static void pace(struct rt_worker *w, uint64_t ts)
{
    const struct rt_global *rt = w->rt;
    if (!w->pace_ts0) {
        w->pace_ts0 = ts;
        w->pace_tsc0 = rte_get_tsc_cycles();
        return;
    }
    if (ts <= w->pace_ts0)
        return;
    double ns = (double)(ts - w->pace_ts0) / rt->opt.replay_speed;
    uint64_t due = w->pace_tsc0 + (uint64_t)(ns * (double)rte_get_tsc_hz() / 1e9);
    while (rte_get_tsc_cycles() < due && !rt->force_quit)
        rte_pause();
}

static int64_t others_seen(const struct rt_worker *self)
{
    const struct rt_global *rt = self->rt;
    int64_t t = 0;
    for (int i = 0; i < rt->nworkers; i++) {
        int64_t s = atomic_load_explicit(&rt->workers[i].seen, memory_order_acquire);
        if (&rt->workers[i] != self && s > t)
            t = s;
    }
    return t;
}

static void flush_late(struct rt_worker *w)
{
    if (w->late_msg) {
        send_msg(w, w->late_msg);
        w->late_msg = NULL;
    }
}

/* --late-topic: before the engine sees packet p, whether it is late for a
 * query at the engine's event time (the rule exec.c's route() applies);
 * if so it joins the batch of late packets for the main lcore. Then event
 * time moves to the packet's. */
static void pick_late(struct rt_worker *w, const struct jit_pkt *p)
{
    const struct ir_program *prog = w->rt->prog;
    int64_t ts = (int64_t)p->ts;
    if (ts < w->late_thr) {
        bool late = false;
        for (int q = 0; q < prog->nqueries && !late; q++)
            late = exec_late_for(prog->queries[q], ts, w->late_thr);
        if (late) {
            struct rt_msg *m = w->late_msg;
            if (!m) {
                m = w->late_msg = calloc(1, sizeof *m);
                if (!m)
                    rt_fatal_oom();
                m->kind = MSG_LATE;
            }
            size_t need = m->nbytes + sizeof(struct rt_late_record) + p->caplen;
            if (need > m->capbytes) {
                size_t cap = m->capbytes ? m->capbytes * 2 : 65536;
                while (cap < need)
                    cap *= 2;
                uint8_t *b = realloc(m->bytes, cap);
                if (!b)
                    rt_fatal_oom();
                m->bytes = b;
                m->capbytes = cap;
            }
            struct rt_late_record r = {(uint32_t)(p->ts / 1000000000u),
                                       (uint32_t)(p->ts % 1000000000u), p->caplen,
                                       p->wirelen};
            memcpy(m->bytes + m->nbytes, &r, sizeof r);
            memcpy(m->bytes + m->nbytes + sizeof r, p->data, p->caplen);
            m->nbytes = need;
            m->nrows++;
            if (m->nbytes >= 65536)
                flush_late(w);
        }
    }
    if (ts > w->late_thr)
        w->late_thr = ts;
}

/* Per-query late counts and the forced count, for the main lcore. */
static void publish_late(struct rt_worker *w)
{
    for (int q = 0; q < w->rt->prog->nqueries; q++)
        atomic_store_explicit(&w->late_q[q], eng_late(w->eng, q), memory_order_relaxed);
    atomic_store_explicit(&w->forced_pub, w->forced, memory_order_relaxed);
}

/* --max-delay: lets out of the buffer what the watermark has passed (all
 * of it when `all`), in time order and in bursts, then moves the engine's
 * event time to the watermark. */
static void release(struct rt_worker *w, uint64_t now, bool all)
{
    const struct rt_global *rt = w->rt;
    uint64_t idle = (uint64_t)((double)rt->opt.idle_timeout_ns / 1e9 * (double)rte_get_tsc_hz());
    int64_t wm = hts_watermark(w->port_latest, w->port_rx_tsc, rt->nports, now, idle,
                               rt->opt.max_delay_ns, &w->all_idle);
    if (all)
        wm = INT64_MAX;
    struct hts_rpkt *held[RT_BURST];
    struct jit_pkt pk[RT_BURST];
    const struct hts_rpkt *top;
    unsigned k = 0;
    while ((top = hts_reorder_peek(w->ro)) &&
           ((int64_t)top->ts <= wm || hts_reorder_over(w->ro))) {
        w->forced += (int64_t)top->ts > wm;
        held[k] = hts_reorder_pop(w->ro);
        pk[k] = (struct jit_pkt){.data = held[k]->data, .caplen = held[k]->caplen,
                                 .wirelen = held[k]->wirelen, .ts = held[k]->ts,
                                 .port = held[k]->port};
        if (unlikely(rt->opt.late_topic))
            pick_late(w, &pk[k]);
        if (++k == RT_BURST || !hts_reorder_peek(w->ro)) {
            eng_burst(w->eng, pk, k);
            for (unsigned i = 0; i < k; i++)
                hts_reorder_done(w->ro, held[i]);
            k = 0;
        }
    }
    if (k) {
        eng_burst(w->eng, pk, k);
        for (unsigned i = 0; i < k; i++)
            hts_reorder_done(w->ro, held[i]);
    }
    if (!all && wm > w->advanced && wm >= 0) {
        eng_advance(w->eng, wm);
        w->advanced = wm;
        if (wm > w->late_thr)
            w->late_thr = wm;
        atomic_store_explicit(&w->seen, wm, memory_order_release);
    }
}

int rt_worker_main(void *arg)
{
    struct rt_worker *w = arg;
    const struct rt_global *rt = w->rt;
    struct rte_mbuf *bufs[RT_BURST];
    struct jit_pkt pk[RT_BURST]; /* the burst as the engine reads it */
    uint8_t *linear = malloc((size_t)RT_BURST * 65536); /* multi-segment frames, made contiguous */
    uint64_t idle_since = rte_get_tsc_cycles();
    uint64_t idle_limit = rt->opt.idle_exit_ms > 0
                              ? rte_get_tsc_hz() / 1000 * (uint64_t)rt->opt.idle_exit_ms
                              : 0;
    if (!linear)
        rt_fatal_oom();
    if (rt->report_mode) {
        if (!(w->feeder = calloc(1, sizeof *w->feeder)))
            rt_fatal_oom();
        w->feeder->plan_path = rt->opt.plan; /* for live changes (param records) */
        w->feeder->who = "htsd";
    }
    /* one worker sees every packet: it emits final rows itself (folds need
     * that); several hand their window state to the main lcore, and so does
     * one at a site of network-wide queries (the main lcore sends it on) */
    if (rt->nworkers > 1 || rt->nsite)
        exec_set_partial(w->x, on_partial, w);
    while (!rt->force_quit) {
        unsigned got = 0;
        for (int p = 0; p < rt->nports; p++) {
            uint16_t n = rte_eth_rx_burst(rt->ports[p], (uint16_t)w->index, bufs, RT_BURST);
            uint64_t burst_ns = 0; /* the burst's reception time, when needed */
            if (!n)
                continue;
            got += n;
            w->bursts++;
            /* per burst, not per packet: counters, the latest time, the port */
            uint64_t bytes = 0, latest = 0;
            const uint16_t port = rt->ports[p];
            const bool paced = rt->opt.replay_speed > 0;
            /* each frame's first line a few packets ahead */
            for (uint16_t i = 0; i < n && i < RT_PREFETCH; i++)
                rte_prefetch0(rte_pktmbuf_mtod(bufs[i], void *));
            for (uint16_t i = 0; i < n; i++) {
                struct rte_mbuf *m = bufs[i];
                if (i + RT_PREFETCH < n)
                    rte_prefetch0(rte_pktmbuf_mtod(bufs[i + RT_PREFETCH], void *));
                const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
                uint32_t len = rte_pktmbuf_data_len(m);
                if (unlikely(m->nb_segs > 1)) {
                    len = rte_pktmbuf_pkt_len(m) < 65536 ? rte_pktmbuf_pkt_len(m) : 65536;
                    data = rte_pktmbuf_read(m, 0, len, linear + (size_t)i * 65536);
                }
                uint64_t ts = mbuf_ts(rt, m, p, &burst_ns);
                if (unlikely(paced))
                    pace(w, ts);
                uint32_t wire = rte_pktmbuf_pkt_len(m);
                pk[i] = (struct jit_pkt){.data = data, .caplen = len, .wirelen = wire,
                                         .ts = ts, .port = port};
                bytes += wire;
                latest = ts > latest ? ts : latest;
                if (unlikely(w->ro != NULL) &&
                    hts_reorder_push(w->ro, data, len, wire, ts, port) < 0)
                    rt_fatal_oom();
            }
            w->packets += n;
            w->bytes += bytes;
            if (w->ro) {
                if (latest > w->port_latest[p])
                    w->port_latest[p] = latest;
                w->port_rx_tsc[p] = rte_get_tsc_cycles();
            } else if ((int64_t)latest > atomic_load_explicit(&w->seen, memory_order_relaxed)) {
                atomic_store_explicit(&w->seen, (int64_t)latest, memory_order_release);
            }
            if (rt->report_mode) { /* the data plane's report frames */
                for (uint16_t i = 0; i < n; i++)
                    if (host_feed_frame(w->feeder, rt->plan, w->x, pk[i].data,
                                        pk[i].caplen, &w->rs, &w->ds) == -ENOMEM)
                        rt_fatal_oom();
                rte_pktmbuf_free_bulk(bufs, n);
            } else {
                if (unlikely(rt->opt.late_topic) && !w->ro)
                    for (uint16_t i = 0; i < n; i++)
                        pick_late(w, &pk[i]);
                if (!w->ro)
                    eng_burst(w->eng, pk, n); /* decode and execute */
                rte_pktmbuf_free_bulk(bufs, n);
            }
        }
        uint64_t now = rte_get_tsc_cycles();
        if (w->ro)
            release(w, now, false);
        /* rows wait in a batch at most a millisecond (windowed rows not at
         * all): batching must not hold results back */
        if (w->batch && (!rt->prog->queries[w->batch->query]->per_packet ||
                         now - w->batch_tsc > rte_get_tsc_hz() / 1000))
            flush_batch(w);
        if (got) {
            idle_since = now;
            /* fault injection for tests (--test-slow-worker): a worker slower
               than the port, so that the port must drop and count it */
            if (unlikely(rt->opt.test_worker_delay_us > 0))
                rte_delay_us_block((unsigned)rt->opt.test_worker_delay_us);
        } else {
            /* nothing queued here: follow the others' event time (with a
             * buffer, once it is empty and every port silent) */
            if (!w->ro || (w->all_idle && !hts_reorder_count(w->ro))) {
                int64_t t = others_seen(w);
                eng_advance(w->eng, t);
                if (t > w->late_thr)
                    w->late_thr = t;
            }
            flush_batch(w);
            flush_late(w);
            if (idle_limit && now - idle_since > idle_limit)
                break;
        }
        if ((++w->loops & 1023) == 0) /* for the metrics; exact at the end */
            publish_late(w);
        atomic_store_explicit(&w->closed, eng_watermark(w->eng), memory_order_release);
    }
    if (w->ro)
        release(w, rte_get_tsc_cycles(), true);
    eng_finish(w->eng);
    flush_late(w);
    publish_late(w);
    flush_batch(w);
    atomic_store_explicit(&w->closed, INT64_MAX, memory_order_release);
    atomic_store_explicit(&w->done, true, memory_order_release);
    free(linear);
    return 0;
}
