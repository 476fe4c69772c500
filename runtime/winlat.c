/*
 * winlat.c - window latency samples and their percentiles (winlat.h).
 */
#include "winlat.h"

#include <stdlib.h>
#include <string.h>

struct adv {
    int64_t wm;   /* the watermark reached ... */
    uint64_t at;  /* ... at this wall time */
};

struct win {
    int64_t end;
    uint64_t t0, last_ack;
    uint64_t rows, acked;
};

struct winlat {
    int64_t hop;
    int64_t last_wm;
    struct adv *adv;
    size_t nadv, capadv;
    struct win *win;
    size_t nwin, capwin;
    size_t hit; /* the window acknowledged last: the next ack is likely its */
    double *samples;
    size_t nsamples, capsamples;
    size_t incomplete;
};

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? 2 * *cap : 64;
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

struct winlat *winlat_new(int64_t hop_ns)
{
    struct winlat *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->hop = hop_ns > 0 ? hop_ns : 1000000000;
    w->last_wm = INT64_MIN;
    return w;
}

void winlat_advance(struct winlat *w, int64_t wm, uint64_t now)
{
    /* one record per window boundary crossed (and the end of input) */
    if (wm <= w->last_wm)
        return;
    int64_t prev = w->last_wm == INT64_MIN ? INT64_MIN : w->last_wm / w->hop;
    w->last_wm = wm;
    if (wm != INT64_MAX && prev != INT64_MIN && wm / w->hop == prev)
        return;
    if (grow((void **)&w->adv, &w->capadv, w->nadv, sizeof *w->adv) < 0)
        return;
    w->adv[w->nadv++] = (struct adv){wm, now};
}

/* When the watermark first reached `end`; 0: not recorded */
static uint64_t reached(const struct winlat *w, int64_t end)
{
    size_t lo = 0, hi = w->nadv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->adv[mid].wm >= end)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < w->nadv ? w->adv[lo].at : 0;
}

static void sample(struct winlat *w, const struct win *x)
{
    if (x->acked < x->rows) {
        w->incomplete++;
        return;
    }
    if (grow((void **)&w->samples, &w->capsamples, w->nsamples, sizeof *w->samples) < 0)
        return;
    w->samples[w->nsamples++] = (double)(x->last_ack - x->t0) / 1e6;
}

/* Windows long acknowledged leave the table as samples. */
static void prune(struct winlat *w)
{
    if (w->nwin < 4096)
        return;
    size_t keep = 64, k = 0;
    for (size_t i = 0; i < w->nwin; i++) {
        if (i < w->nwin - keep && w->win[i].acked == w->win[i].rows)
            sample(w, &w->win[i]);
        else
            w->win[k++] = w->win[i];
    }
    w->nwin = k;
    w->hit = 0;
}

static struct win *find(struct winlat *w, int64_t end_ms)
{
    if (w->hit < w->nwin && w->win[w->hit].end / 1000000 == end_ms)
        return &w->win[w->hit];
    for (size_t i = w->nwin; i-- > 0;)
        if (w->win[i].end / 1000000 == end_ms) {
            w->hit = i;
            return &w->win[i];
        }
    return NULL;
}

void winlat_row(struct winlat *w, int64_t end, uint64_t now)
{
    struct win *x = find(w, end / 1000000);
    if (!x) {
        prune(w);
        if (grow((void **)&w->win, &w->capwin, w->nwin, sizeof *w->win) < 0)
            return;
        uint64_t t0 = reached(w, end);
        x = &w->win[w->nwin++];
        *x = (struct win){.end = end, .t0 = t0 && t0 <= now ? t0 : now};
        w->hit = w->nwin - 1;
    }
    x->rows++;
}

void winlat_acked(struct winlat *w, int64_t ts, uint64_t now)
{
    struct win *x = find(w, ts / 1000000);
    if (!x)
        return; /* not a window's row (per-packet export, late packets) */
    x->acked++;
    x->last_ack = now;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void winlat_stats(struct winlat *w, struct winlat_stats *out)
{
    for (size_t i = 0; i < w->nwin; i++)
        sample(w, &w->win[i]);
    w->nwin = 0;
    memset(out, 0, sizeof *out);
    out->windows = w->nsamples;
    out->incomplete = w->incomplete;
    if (!w->nsamples)
        return;
    qsort(w->samples, w->nsamples, sizeof *w->samples, cmp);
    size_t n = w->nsamples;
    out->p50_ms = w->samples[(n - 1) / 2];
    out->p99_ms = w->samples[(size_t)((double)(n - 1) * 0.99 + 0.5)];
    out->max_ms = w->samples[n - 1];
}

void winlat_free(struct winlat *w)
{
    if (!w)
        return;
    free(w->adv);
    free(w->win);
    free(w->samples);
    free(w);
}
