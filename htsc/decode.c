/*
 * decode.c - `htsc decode`: HTX1 batches (per-packet export, as htsd sends
 * them to Kafka) back into the JSON Lines of `htsc run`.
 *
 *   htsc decode [FILE...]       a file holds batches back to back; no FILE
 *                               or "-": standard input, e.g.
 *   kcat -C -t hts.export_headers -e -f '%s' | htsc decode
 *
 * Batches may also come framed with their length (kcat -f '%R%s': 4 bytes,
 * big-endian): a length in front of a batch is recognised and skipped.
 * Input is read in chunks and each batch decoded once it is whole, so a
 * stream of any length needs memory for one batch. A batch cut short at the
 * end, or bytes that are not HTX1, are an error with their offset; the
 * records before them have been written.
 */
#include "driver.h"
#include "htx.h"
#include "rowfmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct out {
    struct rowbuf line;
};

static char *put_name(char *d, const char *s, size_t n)
{
    hts_value v = {.type = TY_STR, .present = 1};
    v.u.s.p = (const uint8_t *)s;
    v.u.s.n = (uint32_t)n;
    return hts_value_put(d, &v, true);
}

/* One record as htsc run writes a per-packet row: window bounds = its time. */
static int on_record(void *ctx, const struct htx_header *h, int64_t ts, const hts_value *vals)
{
    struct out *o = ctx;
    size_t need = 64 + 6 * h->query_len;
    for (int c = 0; c < h->ncols; c++)
        need += 4 + 6 * h->name_lens[c] + hts_value_max_len(&vals[c]);
    o->line.n = 0;
    if (rowbuf_reserve(&o->line, need) < 0)
        return -ENOMEM;
    char *d = o->line.p;
    memcpy(d, "{\"query\":", 9);
    d = put_name(d + 9, h->query, h->query_len);
    memcpy(d, ",\"window_start\":", 16);
    d = hts_put_int(d + 16, ts);
    memcpy(d, ",\"window_end\":", 14);
    d = hts_put_int(d + 14, ts);
    for (int c = 0; c < h->ncols; c++) {
        *d++ = ',';
        d = put_name(d, h->names[c], h->name_lens[c]);
        *d++ = ':';
        d = hts_value_put(d, &vals[c], true);
    }
    *d++ = '}';
    *d++ = '\n';
    fwrite(o->line.p, 1, (size_t)(d - o->line.p), stdout);
    return 0;
}

/* Decodes one input; 0, or 1 after printing what is wrong. */
static int decode_stream(FILE *in, const char *name, struct out *o, uint64_t *records)
{
    struct rowbuf buf = {0};
    size_t start = 0; /* where the next batch begins in buf */
    uint64_t base = 0; /* input offset of buf.p[0] */
    bool eof = false;
    char err[256];
    int rc = 0;
    for (;;) {
        size_t have = buf.n - start;
        const uint8_t *p = (const uint8_t *)buf.p + start;
        if (have >= 8 && memcmp(p, "HTX1", 4) != 0 && memcmp(p + 4, "HTX1", 4) == 0) {
            start += 4; /* kcat's %R: the message's length */
            continue;
        }
        long n = have ? htx_decode(p, have, NULL, NULL, err, sizeof err) : -ENODATA;
        if (n > 0 && htx_decode(p, have, on_record, o, err, sizeof err) < 0) {
            fprintf(stderr, "htsc: out of memory\n");
            rc = 1;
            break;
        }
        if (n > 0) {
            /* count the records: the header says how many */
            *records += (uint64_t)p[6] << 24 | (uint64_t)p[7] << 16 | (uint64_t)p[8] << 8 | p[9];
            start += (size_t)n;
            continue;
        }
        if (n != -ENODATA) {
            fprintf(stderr, "htsc: %s: byte %llu: %s\n", name,
                    (unsigned long long)(base + start), n == -ENOMEM ? "out of memory" : err);
            rc = 1;
            break;
        }
        if (eof) {
            if (have) {
                fprintf(stderr, "htsc: %s: byte %llu: %s\n", name,
                        (unsigned long long)(base + start), err);
                rc = 1;
            }
            break;
        }
        /* more input: keep the unread part, read a chunk after it */
        if (have) /* (buf.p is NULL before the first read) */
            memmove(buf.p, buf.p + start, have);
        base += start;
        buf.n = have;
        start = 0;
        if (rowbuf_reserve(&buf, 1 << 20) < 0) {
            fprintf(stderr, "htsc: out of memory\n");
            rc = 1;
            break;
        }
        size_t got = fread(buf.p + buf.n, 1, buf.cap - buf.n, in);
        buf.n += got;
        if (got == 0) {
            if (ferror(in)) {
                fprintf(stderr, "htsc: %s: %s\n", name, strerror(errno));
                rc = 1;
                break;
            }
            eof = true;
        }
    }
    free(buf.p);
    return rc;
}

int htsc_cmd_decode(int argc, char **argv)
{
    struct out o = {0};
    uint64_t records = 0;
    int rc = 0;
    if (argc == 0) {
        rc = decode_stream(stdin, "<stdin>", &o, &records);
    } else {
        for (int i = 0; i < argc && !rc; i++) {
            if (!strcmp(argv[i], "-")) {
                rc = decode_stream(stdin, "<stdin>", &o, &records);
                continue;
            }
            FILE *f = fopen(argv[i], "rb");
            if (!f) {
                fprintf(stderr, "htsc: %s: %s\n", argv[i], strerror(errno));
                rc = 1;
                break;
            }
            rc = decode_stream(f, argv[i], &o, &records);
            fclose(f);
        }
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "htsc: writing rows: %s\n", strerror(errno));
        rc = 1;
    }
    free(o.line.p);
    return rc;
}
