/*
 * metrics.c - Prometheus text metrics over HTTP, off the packet path.
 *
 * Two halves that share one page of text:
 *
 * - the main lcore renders the page (it alone may read the executor's
 *   state) every 100 ms, in rt_metrics_poll(), and hands it over with a
 *   trylock: the control loop never waits for the server, nor touches a
 *   socket;
 * - a thread of its own serves it: non-blocking sockets under poll(), at
 *   most MAX_CONNS connections, each
 *   with CONN_TIMEOUT_MS to send its request and take the answer, a request
 *   of at most REQ_MAX bytes that must be a GET (else 400). When all are
 *   taken, the one that has waited longest for its request is closed to make
 *   room. Idle, slow, flooding or malformed clients cost the thread, never
 *   the packet path, and cannot lock a scraper out.
 *
 * Counters that workers write are read without locks (aligned 64-bit
 * loads: a scrape may see a value a moment old, never a torn one).
 */
#include "rt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>

#define MAX_CONNS 64
#define CONN_TIMEOUT_MS 2000
#define REQ_MAX 8192
#define RENDER_EVERY_NS 100000000ull

struct conn {
    int fd;                /* -1: free */
    uint64_t deadline;     /* monotonic ns */
    size_t got;            /* request bytes read */
    char *out;             /* the answer being sent */
    size_t outlen, sent;
    char req[REQ_MAX];
};

static struct {
    const struct rt_global *rt; /* what the page reports */
    int lfd, wake[2];
    pthread_t thread;
    _Atomic bool running;
    pthread_mutex_t mu;   /* guards page */
    char *page;           /* the latest rendered page, NUL-terminated */
    size_t page_n;
    uint64_t rendered_at;
    struct conn conns[MAX_CONNS];
    /* the server's own counters (its thread writes, the page reads) */
    uint64_t served, refused, evicted, timed_out, bad;
} M = {.lfd = -1, .wake = {-1, -1}, .mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

struct text {
    char *p;
    size_t n, cap;
};

#define METRIC(b, name, help, type)                                            \
    text_printf(b, "# HELP " name " " help "\n# TYPE " name " " type "\n")

__attribute__((format(printf, 2, 3))) static void text_printf(struct text *b,
                                                              const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (b->p && b->n + (size_t)n < b->cap) {
            b->n += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 8192;
        while (cap < b->n + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return;
        b->p = p;
        b->cap = cap;
    }
}

static void render(struct text *b)
{
    uint64_t pkts = 0, bytes = 0, ring_full = 0;
    uint64_t dec[DEC__COUNT] = {0};
    int64_t seen = 0;
    for (int i = 0; i < M.rt->nworkers; i++) {
        const struct rt_worker *w = &M.rt->workers[i];
        pkts += w->packets;
        bytes += w->bytes;
        ring_full += w->ring_full;
        for (int e = 0; e < DEC__COUNT; e++)
            dec[e] += w->ds.errors[e];
        int64_t s = atomic_load(&w->seen);
        if (s > seen)
            seen = s;
    }
    METRIC(b, "htsd_packets_total", "Packets received by the workers.", "counter");
    text_printf(b, "htsd_packets_total %llu\n", (unsigned long long)pkts);
    METRIC(b, "htsd_bytes_total", "Bytes received by the workers.", "counter");
    text_printf(b, "htsd_bytes_total %llu\n", (unsigned long long)bytes);
    uint64_t missed = 0, nombuf = 0;
    for (int p = 0; p < M.rt->nports; p++) {
        struct rte_eth_stats st;
        if (rte_eth_stats_get(M.rt->ports[p], &st) == 0) {
            missed += st.imissed + st.ierrors;
            nombuf += st.rx_nombuf;
        }
    }
    METRIC(b, "htsd_packets_missed_total", "Packets the ports dropped (imissed + ierrors + rx_nombuf).", "counter");
    text_printf(b, "htsd_packets_missed_total %llu\n", (unsigned long long)(missed + nombuf));
    METRIC(b, "htsd_decode_errors_total", "Packets with a truncated or malformed header, by reason.", "counter");
    for (int e = 0; e < DEC__COUNT; e++)
        text_printf(b, "htsd_decode_errors_total{reason=\"%s\"} %llu\n",
                      hts_decode_err_names[e], (unsigned long long)dec[e]);
    METRIC(b, "htsd_rows_total", "Result rows produced, per query.", "counter");
    for (int q = 0; q < M.rt->prog->nqueries; q++)
        text_printf(b, "htsd_rows_total{query=\"%s\"} %llu\n", M.rt->prog->queries[q]->name,
                      (unsigned long long)M.rt->rows_per_query[q]);
    struct rt_sink_counters c;
    M.rt->sink->ops->counters(M.rt->sink->self, &c);
    METRIC(b, "htsd_sink_delivered_total", "Rows whose delivery was confirmed.", "counter");
    text_printf(b, "htsd_sink_delivered_total{sink=\"%s\"} %llu\n", M.rt->sink->name, (unsigned long long)c.delivered);
    METRIC(b, "htsd_sink_failed_total", "Rows that could not be delivered.", "counter");
    text_printf(b, "htsd_sink_failed_total{sink=\"%s\"} %llu\n", M.rt->sink->name, (unsigned long long)c.failed);
    METRIC(b, "htsd_sink_queued", "Rows waiting for a delivery report.", "gauge");
    text_printf(b, "htsd_sink_queued{sink=\"%s\"} %llu\n", M.rt->sink->name, (unsigned long long)c.queued);
    METRIC(b, "htsd_sink_broker_down", "1 when every broker is unreachable.", "gauge");
    text_printf(b, "htsd_sink_broker_down{sink=\"%s\"} %d\n", M.rt->sink->name, c.broker_down ? 1 : 0);
    METRIC(b, "htsd_window_lag_seconds", "Event time seen by the workers minus event time emitted.", "gauge");
    int64_t wm = exec_watermark(M.rt->main_x);
    text_printf(b, "htsd_window_lag_seconds %.6f\n", seen > wm ? (double)(seen - wm) / 1e9 : 0.0);
    METRIC(b, "htsd_worker_ring_full_total", "Times a worker waited for the main lcore.", "counter");
    text_printf(b, "htsd_worker_ring_full_total %llu\n", (unsigned long long)ring_full);
    METRIC(b, "htsd_late_total", "Partial window state that arrived after its window closed.", "counter");
    text_printf(b, "htsd_late_total %llu\n", (unsigned long long)exec_stats(M.rt->main_x)->late);
    METRIC(b, "htsd_late_packets_total", "Packets (or worker state) of a query that came after their window had closed.", "counter");
    for (int q = 0; q < M.rt->prog->nqueries; q++)
        text_printf(b, "htsd_late_packets_total{query=\"%s\"} %llu\n", M.rt->prog->queries[q]->name,
                    (unsigned long long)rt_late(M.rt, q));
    uint64_t forced = 0;
    for (int i = 0; i < M.rt->nworkers; i++)
        forced += atomic_load_explicit(&M.rt->workers[i].forced_pub, memory_order_relaxed);
    METRIC(b, "htsd_late_produced_total", "Late packets handed to the sink (--late-topic).", "counter");
    text_printf(b, "htsd_late_produced_total %llu\n", (unsigned long long)M.rt->late_produced);
    METRIC(b, "htsd_reorder_forced_total", "Packets that left a full --max-delay buffer before their delay had passed.", "counter");
    text_printf(b, "htsd_reorder_forced_total %llu\n", (unsigned long long)forced);
    uint64_t refused = exec_stats(M.rt->main_x)->table_full;
    for (int i = 0; i < M.rt->nworkers; i++)
        refused += exec_stats(M.rt->workers[i].x)->table_full;
    METRIC(b, "htsd_table_full_total", "Tuples refused because their table was full (--max-keys).", "counter");
    text_printf(b, "htsd_table_full_total %llu\n", (unsigned long long)refused);
    METRIC(b, "htsd_control_loop_max_pass_seconds", "The longest pass of the main lcore's control loop.", "gauge");
    text_printf(b, "htsd_control_loop_max_pass_seconds %.6f\n", (double)M.rt->loop_max_ns / 1e9);
    METRIC(b, "htsd_control_loop_max_pass_cpu_seconds", "The longest pass of the control loop, in its own CPU time.", "gauge");
    text_printf(b, "htsd_control_loop_max_pass_cpu_seconds %.6f\n", (double)M.rt->loop_max_cpu_ns / 1e9);
    METRIC(b, "htsd_state_keys", "Keys held in the main lcore's open windows.", "gauge");
    text_printf(b, "htsd_state_keys %llu\n", (unsigned long long)exec_state_keys(M.rt->main_x));
}


/* ---- the main lcore: render, hand over ---- */

void rt_metrics_poll(void)
{
    if (M.lfd < 0)
        return;
    uint64_t now = mono_ns();
    if (M.page && now - M.rendered_at < RENDER_EVERY_NS)
        return;
    struct text b = {0};
    render(&b);
    if (!b.p)
        return;
    if (pthread_mutex_trylock(&M.mu) != 0) { /* the server is copying: next time */
        free(b.p);
        return;
    }
    char *old = M.page;
    M.page = b.p;
    M.page_n = b.n;
    pthread_mutex_unlock(&M.mu);
    free(old);
    M.rendered_at = now;
}

/* ---- the server thread ---- */

static void conn_close(struct conn *c)
{
    close(c->fd);
    free(c->out);
    c->fd = -1;
    c->out = NULL;
}

/* The page, with the server's own counters; false before the control loop
 * has rendered one */
static bool page(struct text *b)
{
    pthread_mutex_lock(&M.mu);
    if (M.page)
        text_printf(b, "%s", M.page);
    bool have = M.page != NULL;
    pthread_mutex_unlock(&M.mu);
    if (!have)
        return false;
    METRIC(b, "htsd_metrics_refused_total", "Connections refused: too many open.", "counter");
    text_printf(b, "htsd_metrics_refused_total %llu\n", (unsigned long long)M.refused);
    METRIC(b, "htsd_metrics_evicted_total", "Connections closed, before their request was whole, to make room.", "counter");
    text_printf(b, "htsd_metrics_evicted_total %llu\n", (unsigned long long)M.evicted);
    METRIC(b, "htsd_metrics_timed_out_total", "Connections closed for taking too long.", "counter");
    text_printf(b, "htsd_metrics_timed_out_total %llu\n", (unsigned long long)M.timed_out);
    METRIC(b, "htsd_metrics_bad_requests_total", "Requests that were not an HTTP GET.", "counter");
    text_printf(b, "htsd_metrics_bad_requests_total %llu\n", (unsigned long long)M.bad);
    return true;
}

static void answer(struct conn *c, int status)
{
    struct text b = {0};
    if (status == 200 && !page(&b))
        status = 503; /* starting: no page yet */
    if (status != 200)
        text_printf(&b, "%s\n", status == 400 ? "bad request: expected GET" : "try again");
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.0 %d %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n", status,
                      status == 200 ? "OK" : status == 400 ? "Bad Request" : "Service Unavailable",
                      b.n);
    c->out = malloc((size_t)hn + b.n + 1);
    if (!c->out) {
        free(b.p);
        conn_close(c);
        return;
    }
    memcpy(c->out, head, (size_t)hn);
    if (b.n)
        memcpy(c->out + hn, b.p, b.n);
    c->outlen = (size_t)hn + b.n;
    c->sent = 0;
    free(b.p);
}

static void on_readable(struct conn *c)
{
    for (;;) {
        if (c->got == REQ_MAX) { /* no end of headers within REQ_MAX bytes */
            M.bad++;
            answer(c, 400);
            return;
        }
        ssize_t r = recv(c->fd, c->req + c->got, REQ_MAX - c->got, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (r <= 0) { /* the client went away */
            conn_close(c);
            return;
        }
        c->got += (size_t)r;
        if (memmem(c->req, c->got, "\r\n\r\n", 4) || memmem(c->req, c->got, "\n\n", 2)) {
            bool get = c->got >= 4 && !memcmp(c->req, "GET ", 4);
            if (get)
                M.served++;
            else
                M.bad++;
            answer(c, get ? 200 : 400);
            return;
        }
    }
}

static void on_writable(struct conn *c)
{
    while (c->sent < c->outlen) {
        ssize_t w = send(c->fd, c->out + c->sent, c->outlen - c->sent,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (w <= 0)
            break;
        c->sent += (size_t)w;
    }
    conn_close(c);
}

static void on_accept(void)
{
    for (;;) {
        int fd = accept4(M.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct conn *c = NULL, *oldest = NULL;
        for (int i = 0; i < MAX_CONNS && !c; i++) {
            if (M.conns[i].fd < 0)
                c = &M.conns[i];
            else if (!M.conns[i].out && (!oldest || M.conns[i].deadline < oldest->deadline))
                oldest = &M.conns[i];
        }
        if (!c && oldest) {
            /* full: the connection that has waited longest without a whole
             * request makes room (an idle or slow client cannot lock out a
             * scraper) */
            conn_close(oldest);
            M.evicted++;
            c = oldest;
        }
        if (!c) { /* full of answers being sent: say so without waiting */
            static const char busy[] = "HTTP/1.0 503 Service Unavailable\r\n"
                                       "Content-Length: 0\r\nConnection: close\r\n\r\n";
            (void)!send(fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
            close(fd);
            M.refused++;
            continue;
        }
        c->fd = fd;
        c->got = 0;
        c->deadline = mono_ns() + CONN_TIMEOUT_MS * 1000000ull;
    }
}

static void *serve(void *arg)
{
    (void)arg;
    struct pollfd pf[MAX_CONNS + 2];
    int who[MAX_CONNS + 2];
    while (M.running) {
        int n = 0;
        pf[n] = (struct pollfd){.fd = M.wake[0], .events = POLLIN};
        who[n++] = -2;
        pf[n] = (struct pollfd){.fd = M.lfd, .events = POLLIN};
        who[n++] = -1;
        uint64_t now = mono_ns(), next = now + 100000000ull;
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &M.conns[i];
            if (c->fd < 0)
                continue;
            if (now >= c->deadline) {
                M.timed_out++;
                conn_close(c);
                continue;
            }
            if (c->deadline < next)
                next = c->deadline;
            pf[n] = (struct pollfd){.fd = c->fd, .events = c->out ? POLLOUT : POLLIN};
            who[n++] = i;
        }
        int timeout = (int)((next - now) / 1000000ull) + 1;
        if (poll(pf, (nfds_t)n, timeout) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            if (!pf[k].revents)
                continue;
            if (who[k] == -2) {
                char x[16];
                (void)!read(M.wake[0], x, sizeof x);
            } else if (who[k] == -1) {
                on_accept();
            } else {
                struct conn *c = &M.conns[who[k]];
                if (c->fd < 0)
                    continue;
                if (c->out)
                    on_writable(c);
                else if (pf[k].revents & (POLLIN | POLLHUP | POLLERR))
                    on_readable(c);
            }
        }
    }
    return NULL;
}

int rt_metrics_open(const struct rt_global *g, const char *hostport, char *err, size_t errlen)
{
    M.rt = g;
    char host[64] = "127.0.0.1"; /* a bare PORT: loopback only */
    const char *colon = strrchr(hostport, ':'), *port = hostport;
    if (colon) {
        if ((size_t)(colon - hostport) >= sizeof host || colon == hostport) {
            snprintf(err, errlen, "expected PORT or HOST:PORT");
            return -EINVAL;
        }
        memcpy(host, hostport, (size_t)(colon - hostport));
        host[colon - hostport] = 0;
        port = colon + 1;
    }
    char *end;
    long pn = strtol(port, &end, 10);
    if (!*port || *end || pn < 1 || pn > 65535) {
        snprintf(err, errlen, "'%s' is not a port", port);
        return -EINVAL;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pn)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "'%s' is not an IPv4 address", host);
        return -EINVAL;
    }
    M.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (M.lfd < 0 || setsockopt(M.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(M.lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(M.lfd, 128) < 0 ||
        pipe2(M.wake, O_NONBLOCK | O_CLOEXEC) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s", strerror(e));
        if (M.lfd >= 0)
            close(M.lfd);
        M.lfd = -1;
        return -e;
    }
    for (int i = 0; i < MAX_CONNS; i++)
        M.conns[i].fd = -1;
    M.running = true;
    int e = pthread_create(&M.thread, NULL, serve, NULL);
    if (e) {
        snprintf(err, errlen, "cannot start the metrics thread: %s", strerror(e));
        M.running = false;
        close(M.lfd);
        M.lfd = -1;
        return -e;
    }
    return 0;
}

void rt_metrics_close(void)
{
    if (M.lfd < 0)
        return;
    M.running = false;
    (void)!write(M.wake[1], "x", 1);
    pthread_join(M.thread, NULL);
    for (int i = 0; i < MAX_CONNS; i++)
        if (M.conns[i].fd >= 0)
            conn_close(&M.conns[i]);
    close(M.lfd);
    close(M.wake[0]);
    close(M.wake[1]);
    M.lfd = -1;
    free(M.page);
    M.page = NULL;
}
