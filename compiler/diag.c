/*
 * diag.c - reading sources and printing diagnostics with a caret.
 *
 * Messages are kept in report order. A hostile input (a binary file, a
 * megabyte-long line) must not produce a megabyte of output, so the quoted
 * source line is clipped around the caret and non-printing bytes are shown
 * as '?'; and past max_errors we only count.
 */
#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "htsc: out of memory\n");
        exit(2);
    }
    return q;
}

struct src_file *src_from_string(const char *name, const char *text, size_t len)
{
    struct src_file *f = xrealloc(NULL, sizeof *f);
    f->name = strdup(name);
    f->text = xrealloc(NULL, len + 1);
    memcpy(f->text, text, len);
    f->text[len] = 0;
    f->len = len;
    if (!f->name) {
        fprintf(stderr, "htsc: out of memory\n");
        exit(2);
    }
    return f;
}

struct src_file *src_read(struct diag *d, const char *path)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    struct loc none = {0};
    if (!fp) {
        diag_error(d, none, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = xrealloc(NULL, cap);
    for (;;) {
        if (len == cap)
            buf = xrealloc(buf, cap *= 2);
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0)
            break;
    }
    int err = ferror(fp);
    if (fp != stdin)
        fclose(fp);
    if (err) {
        diag_error(d, none, "%s: read error", path);
        free(buf);
        return NULL;
    }
    struct src_file *f = src_from_string(path, buf, len);
    free(buf);
    return f;
}

void src_free(struct src_file *f)
{
    if (!f)
        return;
    free(f->name);
    free(f->text);
    free(f);
}

void diag_init(struct diag *d)
{
    memset(d, 0, sizeof *d);
    d->max_errors = 50;
}

void diag_free(struct diag *d)
{
    for (int i = 0; i < d->n; i++)
        free(d->msgs[i].text);
    free(d->msgs);
    memset(d, 0, sizeof *d);
}

static void add(struct diag *d, enum diag_level lv, struct loc loc,
                const char *fmt, va_list ap)
{
    if (lv == DIAG_ERROR)
        d->errors++;
    if (d->errors > d->max_errors)
        return;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->msgs = xrealloc(d->msgs, (size_t)d->cap * sizeof *d->msgs);
    }
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    d->msgs[d->n].level = lv;
    d->msgs[d->n].loc = loc;
    d->msgs[d->n].text = strdup(buf);
    if (!d->msgs[d->n].text) {
        fprintf(stderr, "htsc: out of memory\n");
        exit(2);
    }
    d->n++;
}

#define DEFINE_DIAG(fn, lv)                                                    \
    void fn(struct diag *d, struct loc loc, const char *fmt, ...)              \
    {                                                                          \
        va_list ap;                                                            \
        va_start(ap, fmt);                                                     \
        add(d, lv, loc, fmt, ap);                                              \
        va_end(ap);                                                            \
    }
DEFINE_DIAG(diag_error, DIAG_ERROR)
DEFINE_DIAG(diag_warning, DIAG_WARNING)
DEFINE_DIAG(diag_note, DIAG_NOTE)

/* Prints the source line of loc, clipped to a window around the caret. */
static void print_line(FILE *out, struct loc loc)
{
    const char *t = loc.file->text, *end = t + loc.file->len;
    const char *p = t; /* memchr: many diagnostics in a long file stay cheap */
    for (int l = 1; l < loc.line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e)
        e = end;
    long col = loc.col - 1, width = e - p;
    long from = col > 60 ? col - 40 : 0;
    long to = width - from > 100 ? from + 100 : width;
    fputc(' ', out);
    for (long i = from; i < to; i++) {
        unsigned char c = (unsigned char)p[i];
        fputc(c == '\t' ? ' ' : (c >= 0x20 && c < 0x7f) ? c : '?', out);
    }
    fputs("\n ", out);
    for (long i = from; i < col && i < to + 1; i++)
        fputc(' ', out);
    fputs("^\n", out);
}

void diag_print(const struct diag *d, FILE *out)
{
    static const char *const names[] = {"error", "warning", "note"};
    for (int i = 0; i < d->n; i++) {
        const struct diag_msg *m = &d->msgs[i];
        if (m->loc.file && m->loc.line > 0)
            fprintf(out, "%s:%d:%d: %s: %s\n", m->loc.file->name, m->loc.line,
                    m->loc.col, names[m->level], m->text);
        else
            fprintf(out, "htsc: %s: %s\n", names[m->level], m->text);
        if (m->loc.file && m->loc.line > 0)
            print_line(out, m->loc);
    }
    if (d->errors > d->max_errors)
        fprintf(out, "htsc: %d more errors not shown\n",
                d->errors - d->max_errors);
}
