/*
 * pcapin.c - reading captures with libpcap (see pcapin.h).
 *
 * The file is opened with fopen() ourselves so that a missing or unreadable
 * file gives the system's reason (errno), and handed to libpcap at
 * nanosecond precision: libpcap then converts microsecond files and the
 * timestamp's "usec" member carries nanoseconds for every file.
 */
#include "pcapin.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hts_pcap {
    pcap_t *pc;
    char err[PCAP_ERRBUF_SIZE + 64];
};

/* Opens path; on failure writes why to err and returns NULL with *rc set to
 * a negative errno. */
static pcap_t *open_file(const char *path, char *err, size_t errlen, int *rc)
{
    char pe[PCAP_ERRBUF_SIZE] = "";
    FILE *f = fopen(path, "rb");
    if (!f) {
        *rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    pcap_t *pc =
        pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, pe);
    if (!pc) {
        /* libpcap closes nothing it did not open successfully */
        fclose(f);
        *rc = -EINVAL;
        snprintf(err, errlen, "%s: not a capture file (%s)", path, pe);
        return NULL;
    }
    *rc = 0;
    return pc;
}

static struct hts_pcap *open_handle(const char *path, char *err,
                                    size_t errlen, int *rc)
{
    struct hts_pcap *h = calloc(1, sizeof *h);
    if (!h) {
        *rc = -ENOMEM;
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    h->pc = open_file(path, err, errlen, rc);
    if (!h->pc) {
        free(h);
        return NULL;
    }
    return h;
}

struct hts_pcap *hts_pcap_open(const char *path, char *err, size_t errlen)
{
    int rc;
    return open_handle(path, err, errlen, &rc);
}

int hts_pcap_next(struct hts_pcap *h, const uint8_t **data, uint32_t *caplen,
                  uint32_t *wirelen, uint64_t *ts_ns)
{
    struct pcap_pkthdr *hdr;
    const u_char *bytes;
    int r = pcap_next_ex(h->pc, &hdr, &bytes);
    if (r == PCAP_ERROR_BREAK)
        return 0;
    if (r != 1) {
        snprintf(h->err, sizeof h->err, "%s", pcap_geterr(h->pc));
        return -EIO;
    }
    *data = bytes;
    *caplen = hdr->caplen;
    *wirelen = hdr->len;
    /* nanosecond precision: tv_usec holds nanoseconds */
    *ts_ns = (uint64_t)hdr->ts.tv_sec * 1000000000u + (uint64_t)hdr->ts.tv_usec;
    return 1;
}

int hts_pcap_linktype(const struct hts_pcap *h)
{
    return pcap_datalink(h->pc);
}

const char *hts_pcap_error(struct hts_pcap *h)
{
    return h->err;
}

void hts_pcap_close(struct hts_pcap *h)
{
    if (!h)
        return;
    pcap_close(h->pc);
    free(h);
}

/* Grows the trace's arrays to hold at least want packets. */
static int trace_grow(struct hts_trace *t, size_t *cap, size_t want)
{
    if (want <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 1024;
    void *a = realloc(t->off, n * sizeof *t->off);
    if (!a)
        return -ENOMEM;
    t->off = a;
    if (!(a = realloc(t->cap_len, n * sizeof *t->cap_len)))
        return -ENOMEM;
    t->cap_len = a;
    if (!(a = realloc(t->wire_len, n * sizeof *t->wire_len)))
        return -ENOMEM;
    t->wire_len = a;
    if (!(a = realloc(t->ts_ns, n * sizeof *t->ts_ns)))
        return -ENOMEM;
    t->ts_ns = a;
    *cap = n;
    return 0;
}

int hts_trace_load(const char *path, struct hts_trace *t, char *err,
                   size_t errlen)
{
    memset(t, 0, sizeof *t);
    int rc;
    struct hts_pcap *h = open_handle(path, err, errlen, &rc);
    if (!h)
        return rc;
    t->linktype = hts_pcap_linktype(h);
    size_t pcap_cap = 0, byte_cap = 0;
    for (;;) {
        const uint8_t *d;
        uint32_t cl, wl;
        uint64_t ts;
        rc = hts_pcap_next(h, &d, &cl, &wl, &ts);
        if (rc <= 0)
            break;
        if ((rc = trace_grow(t, &pcap_cap, t->n + 1)) < 0)
            break;
        if (t->nbytes + cl > byte_cap) {
            size_t nc = byte_cap ? byte_cap : 1 << 20;
            while (nc < t->nbytes + cl)
                nc *= 2;
            uint8_t *b = realloc(t->bytes, nc);
            if (!b) {
                rc = -ENOMEM;
                break;
            }
            t->bytes = b;
            byte_cap = nc;
        }
        if (cl)
            memcpy(t->bytes + t->nbytes, d, cl);
        t->off[t->n] = t->nbytes;
        t->cap_len[t->n] = cl;
        t->wire_len[t->n] = wl;
        t->ts_ns[t->n] = ts;
        t->nbytes += cl;
        t->n++;
    }
    if (rc < 0) {
        if (rc == -ENOMEM)
            snprintf(err, errlen, "%s: out of memory", path);
        else
            snprintf(err, errlen, "%s: %s", path, hts_pcap_error(h));
        hts_pcap_close(h);
        hts_trace_free(t);
        return rc;
    }
    hts_pcap_close(h);
    return 0;
}

void hts_trace_free(struct hts_trace *t)
{
    free(t->bytes);
    free(t->off);
    free(t->cap_len);
    free(t->wire_len);
    free(t->ts_ns);
    memset(t, 0, sizeof *t);
}
