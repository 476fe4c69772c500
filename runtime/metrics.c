/*
 * metrics.c - Prometheus text metrics over HTTP, from the main lcore.
 *
 * A non-blocking listening socket polled on every pass of the control loop:
 * each scrape is answered whole and the connection closed. Nothing here runs
 * on a worker; counters that workers write are read without locks (aligned
 * 64-bit loads: a scrape may see a value a moment old, never a torn one).
 */
#include "rt.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_ethdev.h>

static int lfd = -1;
static const struct rt_global *rt; /* what the scrapes report */

int rt_metrics_open(const struct rt_global *g, const char *hostport, char *err,
                    size_t errlen)
{
    rt = g;
    char host[64];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host) {
        snprintf(err, errlen, "expected HOST:PORT");
        return -EINVAL;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "'%s' is not an IPv4 address", host);
        return -EINVAL;
    }
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 16) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        if (lfd >= 0)
            close(lfd);
        lfd = -1;
        return -errno;
    }
    return 0;
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
    for (int i = 0; i < rt->nworkers; i++) {
        const struct rt_worker *w = &rt->workers[i];
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
    for (int p = 0; p < rt->nports; p++) {
        struct rte_eth_stats st;
        if (rte_eth_stats_get(rt->ports[p], &st) == 0) {
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
    for (int q = 0; q < rt->prog->nqueries; q++)
        text_printf(b, "htsd_rows_total{query=\"%s\"} %llu\n", rt->prog->queries[q]->name,
                      (unsigned long long)rt->rows_per_query[q]);
    struct rt_sink_counters c;
    rt->sink->ops->counters(rt->sink->self, &c);
    METRIC(b, "htsd_sink_delivered_total", "Rows whose delivery was confirmed.", "counter");
    text_printf(b, "htsd_sink_delivered_total{sink=\"%s\"} %llu\n", rt->sink->name, (unsigned long long)c.delivered);
    METRIC(b, "htsd_sink_failed_total", "Rows that could not be delivered.", "counter");
    text_printf(b, "htsd_sink_failed_total{sink=\"%s\"} %llu\n", rt->sink->name, (unsigned long long)c.failed);
    METRIC(b, "htsd_sink_queued", "Rows waiting for a delivery report.", "gauge");
    text_printf(b, "htsd_sink_queued{sink=\"%s\"} %llu\n", rt->sink->name, (unsigned long long)c.queued);
    METRIC(b, "htsd_sink_broker_down", "1 when every broker is unreachable.", "gauge");
    text_printf(b, "htsd_sink_broker_down{sink=\"%s\"} %d\n", rt->sink->name, c.broker_down ? 1 : 0);
    METRIC(b, "htsd_window_lag_seconds", "Event time seen by the workers minus event time emitted.", "gauge");
    int64_t wm = exec_watermark(rt->main_x);
    text_printf(b, "htsd_window_lag_seconds %.6f\n", seen > wm ? (double)(seen - wm) / 1e9 : 0.0);
    METRIC(b, "htsd_worker_ring_full_total", "Times a worker waited for the main lcore.", "counter");
    text_printf(b, "htsd_worker_ring_full_total %llu\n", (unsigned long long)ring_full);
    METRIC(b, "htsd_late_total", "Partial window state that arrived after its window closed.", "counter");
    text_printf(b, "htsd_late_total %llu\n", (unsigned long long)exec_stats(rt->main_x)->late);
    uint64_t refused = exec_stats(rt->main_x)->table_full;
    for (int i = 0; i < rt->nworkers; i++)
        refused += exec_stats(rt->workers[i].x)->table_full;
    METRIC(b, "htsd_table_full_total", "Tuples refused because their table was full (--max-keys).", "counter");
    text_printf(b, "htsd_table_full_total %llu\n", (unsigned long long)refused);
    METRIC(b, "htsd_state_keys", "Keys held in the main lcore's open windows.", "gauge");
    text_printf(b, "htsd_state_keys %llu\n", (unsigned long long)exec_state_keys(rt->main_x));
}

void rt_metrics_poll(void)
{
    if (lfd < 0)
        return;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    /* read the request (we answer any path); give a slow client 100 ms */
    char req[2048];
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 100) > 0)
        (void)!read(fd, req, sizeof req);
    struct text body = {0};
    render(&body);
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n", body.n);
    /* MSG_NOSIGNAL: a scraper that hung up must not kill htsd (SIGPIPE) */
    (void)!send(fd, head, (size_t)hn, MSG_NOSIGNAL);
    for (size_t off = 0; off < body.n;) {
        ssize_t w = send(fd, body.p + off, body.n - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(body.p);
    close(fd);
}

void rt_metrics_close(void)
{
    if (lfd >= 0)
        close(lfd);
    lfd = -1;
}
