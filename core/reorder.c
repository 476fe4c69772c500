/*
 * reorder.c - the time-order buffer (see reorder.h): a binary min-heap of
 * packet copies keyed by (time, arrival number).
 *
 * Nearly ordered input, the usual case, costs one comparison per push (the
 * new packet is the latest and stays at the bottom) and log n per pop.
 */
#include "reorder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct hts_reorder {
    struct hts_rpkt **heap;
    size_t n, cap;
    size_t bytes, max_bytes;
    uint64_t seq;
};

static bool before(const struct hts_rpkt *a, const struct hts_rpkt *b)
{
    return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

struct hts_reorder *hts_reorder_new(size_t max_bytes)
{
    struct hts_reorder *r = calloc(1, sizeof *r);
    if (r)
        r->max_bytes = max_bytes;
    return r;
}

void hts_reorder_free(struct hts_reorder *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->heap[i]);
    free(r->heap);
    free(r);
}

int hts_reorder_push(struct hts_reorder *r, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen, uint64_t ts, uint16_t port)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        struct hts_rpkt **h = realloc(r->heap, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        r->heap = h;
        r->cap = cap;
    }
    struct hts_rpkt *p = malloc(sizeof *p + caplen);
    if (!p)
        return -ENOMEM;
    p->ts = ts;
    p->seq = r->seq++;
    p->caplen = caplen;
    p->wirelen = wirelen;
    p->port = port;
    if (caplen)
        memcpy(p->data, data, caplen);
    size_t i = r->n++;
    while (i > 0) { /* sift up */
        size_t up = (i - 1) / 2;
        if (!before(p, r->heap[up]))
            break;
        r->heap[i] = r->heap[up];
        i = up;
    }
    r->heap[i] = p;
    r->bytes += sizeof *p + caplen;
    return 0;
}

const struct hts_rpkt *hts_reorder_peek(const struct hts_reorder *r)
{
    return r->n ? r->heap[0] : NULL;
}

struct hts_rpkt *hts_reorder_pop(struct hts_reorder *r)
{
    if (!r->n)
        return NULL;
    struct hts_rpkt *top = r->heap[0], *last = r->heap[--r->n];
    size_t i = 0;
    for (;;) { /* sift the last one down from the root */
        size_t c = 2 * i + 1;
        if (c >= r->n)
            break;
        if (c + 1 < r->n && before(r->heap[c + 1], r->heap[c]))
            c++;
        if (!before(r->heap[c], last))
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (r->n)
        r->heap[i] = last;
    r->bytes -= sizeof *top + top->caplen;
    return top;
}

void hts_reorder_done(struct hts_reorder *r, struct hts_rpkt *p)
{
    (void)r;
    free(p);
}

int64_t hts_watermark(const uint64_t *latest, const uint64_t *last_rx, int n, uint64_t now,
                      uint64_t idle, int64_t delay, bool *all_idle)
{
    int64_t wm = INT64_MAX, top = -1;
    bool active = false;
    for (int i = 0; i < n; i++) {
        if (!last_rx[i])
            continue;
        if ((int64_t)latest[i] > top)
            top = (int64_t)latest[i];
        if (now - last_rx[i] <= idle) {
            int64_t w = (int64_t)latest[i] - delay;
            if (w < wm)
                wm = w;
            active = true;
        }
    }
    *all_idle = !active;
    return active ? wm : top;
}

size_t hts_reorder_count(const struct hts_reorder *r)
{
    return r->n;
}

size_t hts_reorder_bytes(const struct hts_reorder *r)
{
    return r->bytes;
}

bool hts_reorder_over(const struct hts_reorder *r)
{
    return r->max_bytes && r->bytes > r->max_bytes;
}
