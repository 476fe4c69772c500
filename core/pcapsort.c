/*
 * pcapsort.c - the time-ordered capture reader (see pcapsort.h).
 *
 * Three ways out, chosen after the first pass: STREAM (the file was in
 * order: read it again as it is), MEMORY (out of order, fits in mem_limit:
 * one sorted chunk), MERGE (sorted runs on disk, merged through a small
 * heap of their heads). Runs are written as records of time (8 bytes),
 * captured and wire lengths (4 each), then the bytes, in host byte order:
 * they live only as long as the reader.
 */
#include "pcapsort.h"
#include "pcapin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum mode { STREAM, MEMORY, MERGE };

struct ent { /* a packet of the chunk being sorted */
    uint64_t ts;
    size_t idx, off;
    uint32_t caplen, wirelen;
};

struct run { /* a sorted run on disk and its head */
    FILE *f;
    uint64_t ts;
    uint32_t caplen, wirelen;
    uint8_t *buf;
    size_t cap;
};

struct hts_sorted {
    enum mode mode;
    struct hts_pcap *pc;
    int linktype;
    struct hts_sorted_stats st;
    char err[512];
    /* MEMORY, and the chunk being filled */
    uint8_t *bytes;
    size_t nbytes, capbytes;
    struct ent *ents;
    size_t nents, capents, next;
    /* MERGE */
    struct run *runs;
    int *heap, nheap;
};

static int fail(struct hts_sorted *s, int rc, const char *what)
{
    snprintf(s->err, sizeof s->err, "%s: %s", what, strerror(-rc));
    return rc;
}

static int cmp_ent(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static FILE *temp_file(char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/htsc-sort-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err, errlen, "a temporary file in %s: %s", dir && *dir ? dir : "/tmp",
                 strerror(errno));
        return NULL;
    }
    unlink(path); /* gone with the last descriptor, whatever happens */
    FILE *f = fdopen(fd, "w+b");
    if (!f) {
        snprintf(err, errlen, "a temporary file: %s", strerror(errno));
        close(fd);
    }
    return f;
}

/* Writes the sorted chunk as a run. */
static int spill(struct hts_sorted *s)
{
    FILE *f = temp_file(s->err, sizeof s->err);
    if (!f)
        return -EIO;
    for (size_t i = 0; i < s->nents; i++) {
        const struct ent *e = &s->ents[i];
        if (fwrite(&e->ts, 8, 1, f) != 1 || fwrite(&e->caplen, 4, 1, f) != 1 ||
            fwrite(&e->wirelen, 4, 1, f) != 1 ||
            (e->caplen && fwrite(s->bytes + e->off, e->caplen, 1, f) != 1)) {
            snprintf(s->err, sizeof s->err, "writing a sorted run: %s", strerror(errno));
            fclose(f);
            return -EIO;
        }
    }
    if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(s->err, sizeof s->err, "writing a sorted run: %s", strerror(errno));
        fclose(f);
        return -EIO;
    }
    struct run *rs = realloc(s->runs, (size_t)(s->st.runs + 1) * sizeof *rs);
    if (!rs) {
        fclose(f);
        return fail(s, -ENOMEM, "sorting");
    }
    s->runs = rs;
    s->runs[s->st.runs++] = (struct run){.f = f};
    s->nents = s->nbytes = 0;
    return 0;
}

/* Reads run i's next record into its head: 1, 0 at its end, <0 error. */
static int run_read(struct hts_sorted *s, struct run *r)
{
    if (fread(&r->ts, 8, 1, r->f) != 1)
        return ferror(r->f) ? fail(s, -EIO, "reading a sorted run") : 0;
    if (fread(&r->caplen, 4, 1, r->f) != 1 || fread(&r->wirelen, 4, 1, r->f) != 1)
        return fail(s, -EIO, "reading a sorted run");
    if (r->caplen > r->cap) {
        uint8_t *b = realloc(r->buf, r->caplen);
        if (!b)
            return fail(s, -ENOMEM, "sorting");
        r->buf = b;
        r->cap = r->caplen;
    }
    if (r->caplen && fread(r->buf, r->caplen, 1, r->f) != 1)
        return fail(s, -EIO, "reading a sorted run");
    return 1;
}

static bool run_before(const struct hts_sorted *s, int a, int b)
{
    return s->runs[a].ts < s->runs[b].ts || (s->runs[a].ts == s->runs[b].ts && a < b);
}

static void sift_down(struct hts_sorted *s, int i)
{
    for (;;) {
        int c = 2 * i + 1;
        if (c >= s->nheap)
            return;
        if (c + 1 < s->nheap && run_before(s, s->heap[c + 1], s->heap[c]))
            c++;
        if (!run_before(s, s->heap[c], s->heap[i]))
            return;
        int t = s->heap[c];
        s->heap[c] = s->heap[i];
        s->heap[i] = t;
        i = c;
    }
}

/* Second pass over an out-of-order file: sorted chunks, spilled if more
 * than one. */
static int sort_file(struct hts_sorted *s, const char *path, size_t mem_limit)
{
    char err[512];
    struct hts_pcap *pc = hts_pcap_open(path, err, sizeof err);
    if (!pc) {
        snprintf(s->err, sizeof s->err, "%s", err);
        return -EIO;
    }
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint64_t ts;
    size_t idx = 0;
    int r;
    while ((r = hts_pcap_next(pc, &data, &caplen, &wirelen, &ts)) == 1) {
        size_t need = s->nbytes + caplen + (s->nents + 1) * sizeof(struct ent);
        if (s->nents && need > mem_limit) {
            qsort(s->ents, s->nents, sizeof *s->ents, cmp_ent);
            if ((r = spill(s)) < 0)
                break;
        }
        if (s->nbytes + caplen > s->capbytes) {
            size_t cap = s->capbytes ? s->capbytes : 65536;
            while (cap < s->nbytes + caplen)
                cap *= 2;
            uint8_t *b = realloc(s->bytes, cap);
            if (!b) {
                r = fail(s, -ENOMEM, "sorting");
                break;
            }
            s->bytes = b;
            s->capbytes = cap;
        }
        if (s->nents == s->capents) {
            size_t cap = s->capents ? s->capents * 2 : 1024;
            struct ent *e = realloc(s->ents, cap * sizeof *e);
            if (!e) {
                r = fail(s, -ENOMEM, "sorting");
                break;
            }
            s->ents = e;
            s->capents = cap;
        }
        if (caplen)
            memcpy(s->bytes + s->nbytes, data, caplen);
        s->ents[s->nents++] = (struct ent){.ts = ts, .idx = idx++, .off = s->nbytes,
                                           .caplen = caplen, .wirelen = wirelen};
        s->nbytes += caplen;
    }
    if (r < 0 && !s->err[0])
        snprintf(s->err, sizeof s->err, "%s: %s", path, hts_pcap_error(pc));
    hts_pcap_close(pc);
    if (r < 0)
        return r;
    qsort(s->ents, s->nents, sizeof *s->ents, cmp_ent);
    if (!s->st.runs) {
        s->mode = MEMORY;
        return 0;
    }
    if (s->nents && (r = spill(s)) < 0)
        return r;
    free(s->bytes); /* merging needs only the heads */
    free(s->ents);
    s->bytes = NULL;
    s->ents = NULL;
    s->capbytes = s->capents = 0;
    s->mode = MERGE;
    s->heap = malloc((size_t)s->st.runs * sizeof *s->heap);
    if (!s->heap)
        return fail(s, -ENOMEM, "sorting");
    for (int i = 0; i < s->st.runs; i++) {
        if ((r = run_read(s, &s->runs[i])) < 0)
            return r;
        if (r)
            s->heap[s->nheap++] = i;
    }
    for (int i = s->nheap / 2 - 1; i >= 0; i--)
        sift_down(s, i);
    return 0;
}

struct hts_sorted *hts_sorted_open(const char *path, size_t mem_limit, char *err,
                                   size_t errlen)
{
    struct hts_sorted *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (!mem_limit)
        mem_limit = (size_t)512 << 20;
    /* first pass: is the file in time order? */
    struct hts_pcap *pc = hts_pcap_open(path, err, errlen);
    if (!pc) {
        free(s);
        return NULL;
    }
    s->linktype = hts_pcap_linktype(pc);
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint64_t ts, latest = 0;
    int r;
    while ((r = hts_pcap_next(pc, &data, &caplen, &wirelen, &ts)) == 1) {
        if (s->st.packets++ && ts < latest) {
            s->st.out_of_order++;
            if (latest - ts > s->st.max_back_ns)
                s->st.max_back_ns = latest - ts;
        }
        if (ts > latest)
            latest = ts;
    }
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", path, hts_pcap_error(pc));
        hts_pcap_close(pc);
        free(s);
        return NULL;
    }
    hts_pcap_close(pc);
    if (!s->st.out_of_order) {
        s->mode = STREAM;
        s->pc = hts_pcap_open(path, err, errlen);
        if (!s->pc) {
            free(s);
            return NULL;
        }
        return s;
    }
    if (sort_file(s, path, mem_limit) < 0) {
        snprintf(err, errlen, "%s: %s", path, s->err);
        hts_sorted_close(s);
        return NULL;
    }
    return s;
}

int hts_sorted_next(struct hts_sorted *s, const uint8_t **data, uint32_t *caplen,
                    uint32_t *wirelen, uint64_t *ts_ns)
{
    switch (s->mode) {
    case STREAM:
        return hts_pcap_next(s->pc, data, caplen, wirelen, ts_ns);
    case MEMORY: {
        if (s->next == s->nents)
            return 0;
        const struct ent *e = &s->ents[s->next++];
        *data = s->bytes + e->off;
        *caplen = e->caplen;
        *wirelen = e->wirelen;
        *ts_ns = e->ts;
        return 1;
    }
    case MERGE:
        break;
    }
    if (!s->nheap)
        return 0;
    /* the head handed out last time is replaced now, not before: its bytes
     * had to stay valid until this call */
    if (s->next) {
        int top = s->heap[0];
        int r = run_read(s, &s->runs[top]);
        if (r < 0)
            return r;
        if (!r) {
            s->heap[0] = s->heap[--s->nheap];
            if (!s->nheap)
                return 0;
        }
        sift_down(s, 0);
    }
    s->next = 1;
    struct run *h = &s->runs[s->heap[0]];
    *data = h->buf;
    *caplen = h->caplen;
    *wirelen = h->wirelen;
    *ts_ns = h->ts;
    return 1;
}

int hts_sorted_linktype(const struct hts_sorted *s)
{
    return s->linktype;
}

const char *hts_sorted_error(const struct hts_sorted *s)
{
    if (s->mode == STREAM && s->pc)
        return hts_pcap_error(s->pc);
    return s->err;
}

const struct hts_sorted_stats *hts_sorted_stats(const struct hts_sorted *s)
{
    return &s->st;
}

void hts_sorted_close(struct hts_sorted *s)
{
    if (!s)
        return;
    if (s->pc)
        hts_pcap_close(s->pc);
    for (int i = 0; i < s->st.runs; i++) {
        if (s->runs[i].f)
            fclose(s->runs[i].f);
        free(s->runs[i].buf);
    }
    free(s->runs);
    free(s->heap);
    free(s->bytes);
    free(s->ents);
    free(s);
}
