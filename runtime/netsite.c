/*
 * netsite.c - a site's side of network-wide queries (netstate.h): htsd's
 * main lcore hands the merged state of each closed window of such a query to
 * Kafka, partitioned by key, and tells every partition its watermark.
 *
 * The main lcore's executor is partial for network-wide queries: when a
 * window closes, each state row comes here (ns_site_row) and is appended to
 * a message per partition; ns_site_flush() produces them (one message per
 * partition, query, node and window, cut at NS_SITE_MSG bytes); then
 * ns_site_watermark() sends the new watermark to every partition, after the
 * state it covers. Messages carry the time of producing, not event time: a
 * broker's retention must not drop the state of an old capture's windows
 * before htsmerge has read it.
 */
#include "netsite.h"

#include "netstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_SITE_MSG (512 * 1024) /* a message is cut past this many bytes */

struct stage {
    struct rowbuf b;
    size_t nrows_at;
    uint32_t nrows;
};

struct ns_site {
    const struct ir_program *prog;
    struct rt_sink *sink;
    const char *site;
    uint64_t epoch;
    int32_t nparts;
    uint64_t *seq;          /* per partition: the last sequence number used */
    struct ns_route *routes; /* per query */
    struct stage *stage;    /* per partition: the message being filled */
    int cur_q, cur_node, cur_ncols; /* what the staged messages hold */
    int64_t cur_ws;
    int64_t wm_sent;
    uint64_t wm_sent_ns; /* when (the wall clock) */
    bool state_since_wm;
    struct rowbuf wm;
    struct ns_site_stats st;
};

static uint64_t wall_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

struct ns_site *ns_site_new(const struct ir_program *prog, struct rt_sink *sink,
                            const char *site, int create_parts, char *err, size_t errlen)
{
    if (!sink->ops->produce_to || !sink->ops->partitions) {
        snprintf(err, errlen, "network-wide queries need Kafka (--brokers): their state "
                 "goes to topic PREFIX" NS_TOPIC);
        return NULL;
    }
    if (strlen(site) == 0 || strlen(site) > NS_MAX_SITE) {
        snprintf(err, errlen, "--site: a name of 1 to %d bytes", NS_MAX_SITE);
        return NULL;
    }
    int n = sink->ops->partitions(sink->self, NS_TOPIC, create_parts, err, errlen);
    if (n <= 0)
        return NULL;
    struct ns_site *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->prog = prog;
    s->sink = sink;
    s->site = site;
    s->epoch = wall_ns();
    s->nparts = n;
    s->cur_q = -1;
    s->wm_sent = INT64_MIN;
    s->seq = calloc((size_t)n, sizeof *s->seq);
    s->stage = calloc((size_t)n, sizeof *s->stage);
    s->routes = calloc((size_t)prog->nqueries + 1, sizeof *s->routes);
    if (!s->seq || !s->stage || !s->routes)
        goto oom;
    for (int q = 0; q < prog->nqueries; q++)
        if (prog->queries[q]->network_wide)
            ns_route(prog->queries[q], &s->routes[q]);
    s->st.partitions = n;
    return s;
oom:
    ns_site_free(s);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

const struct ns_route *ns_site_route(const struct ns_site *s, int query)
{
    return &s->routes[query];
}

static void produce(struct ns_site *s, int32_t p, const void *msg, size_t len)
{
    if (s->sink->ops->produce_to(s->sink->self, NS_TOPIC, p, msg, len, 0) < 0)
        s->st.failed++;
    else
        s->st.messages++;
    s->st.bytes += len;
}

void ns_site_flush(struct ns_site *s)
{
    for (int32_t p = 0; p < s->nparts; p++) {
        struct stage *g = &s->stage[p];
        if (!g->nrows)
            continue;
        produce(s, p, g->b.p, g->b.n);
        g->b.n = 0;
        g->nrows = 0;
        s->state_since_wm = true;
    }
    s->cur_q = -1;
}

void ns_site_row(struct ns_site *s, int query, int node, int64_t ws,
                 const hts_value *row, int ncols)
{
    const struct ir_query *q = s->prog->queries[query];
    if (query != s->cur_q || node != s->cur_node || ws != s->cur_ws)
        ns_site_flush(s);
    s->cur_q = query;
    s->cur_node = node;
    s->cur_ws = ws;
    s->cur_ncols = ncols;
    int32_t p = ns_partition(q, &s->routes[query], row, s->nparts);
    struct stage *g = &s->stage[p];
    if (g->nrows && g->b.n > NS_SITE_MSG) { /* cut: the rest in a new message */
        produce(s, p, g->b.p, g->b.n);
        g->b.n = 0;
        g->nrows = 0;
    }
    if (!g->nrows) {
        if (ns_encode_state(&g->b, s->site, s->epoch, ++s->seq[p], q->name, node, ws, ncols,
                            NULL, 0) < 0) {
            s->st.unencodable++;
            s->seq[p]--;
            return;
        }
        g->nrows_at = g->b.n;
    }
    if (ns_append_row(&g->b, g->nrows_at, g->nrows + 1, row, ncols) < 0) {
        s->st.unencodable++;
        if (!g->nrows) { /* drop the empty message again */
            g->b.n = 0;
            s->seq[p]--;
        }
        return;
    }
    g->nrows++;
    s->st.rows++;
}

void ns_site_watermark(struct ns_site *s, int64_t wm, bool force)
{
    if (wm <= s->wm_sent)
        return;
    uint64_t now = wall_ns();
    /* at once after state (it closes windows at the merge); else at most
     * ten times a second: silent windows close on it too */
    if (!force && !s->state_since_wm && now - s->wm_sent_ns < 100000000ull)
        return;
    ns_site_flush(s);
    for (int32_t p = 0; p < s->nparts; p++) {
        s->wm.n = 0;
        if (ns_encode_watermark(&s->wm, s->site, s->epoch, ++s->seq[p], wm) == 0)
            produce(s, p, s->wm.p, s->wm.n);
    }
    s->st.watermarks++;
    s->wm_sent = wm;
    s->state_since_wm = false;
    s->wm_sent_ns = now;
}

void ns_site_stats(const struct ns_site *s, struct ns_site_stats *out)
{
    *out = s->st;
}

void ns_site_free(struct ns_site *s)
{
    if (!s)
        return;
    for (int32_t p = 0; s->stage && p < s->nparts; p++)
        rowbuf_free(&s->stage[p].b);
    rowbuf_free(&s->wm);
    free(s->stage);
    free(s->seq);
    free(s->routes);
    free(s);
}
