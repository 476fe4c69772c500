/*
 * rowfmt.c - JSON rows and group keys (see rowfmt.h).
 */
#include "rowfmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(struct rowbuf *b, size_t more)
{
    if (b->n + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

__attribute__((format(printf, 2, 3))) static int put(struct rowbuf *b,
                                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n) < 0)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
    return 0;
}

static int put_value(struct rowbuf *b, const hts_value *v, bool json)
{
    char small[128];
    int n = json ? hts_value_json(v, small, sizeof small)
                 : hts_value_text(v, small, sizeof small);
    if (n < 0 || grow(b, (size_t)n) < 0)
        return -ENOMEM;
    if ((size_t)n < sizeof small)
        memcpy(b->p + b->n, small, (size_t)n + 1);
    else if (json)
        hts_value_json(v, b->p + b->n, (size_t)n + 1);
    else
        hts_value_text(v, b->p + b->n, (size_t)n + 1);
    b->n += (size_t)n;
    return 0;
}

static int put_name(struct rowbuf *b, const char *s)
{
    hts_value v = {.type = TY_STR, .present = 1};
    v.u.s.p = (const uint8_t *)s;
    v.u.s.n = (uint32_t)strlen(s);
    return put_value(b, &v, true);
}

int rowfmt_json(struct rowbuf *b, const struct ir_query *q, int64_t ws,
                int64_t we, const hts_value *cols, int ncols)
{
    int rc = put(b, "{\"query\":");
    rc |= put_name(b, q->name);
    rc |= put(b, ",\"window_start\":%lld,\"window_end\":%lld", (long long)ws,
              (long long)we);
    for (int i = 0; i < ncols; i++) {
        rc |= put(b, ",");
        rc |= put_name(b, q->root->cols[i].name);
        rc |= put(b, ":");
        rc |= put_value(b, &cols[i], true);
    }
    rc |= put(b, "}");
    return rc ? -ENOMEM : 0;
}

/* The key columns: those named like the keys of the nearest grouping node
 * above the output (through filters and maps that keep the names). */
int rowfmt_key(struct rowbuf *b, const struct ir_query *q,
               const hts_value *cols, int ncols)
{
    const struct ir_node *n = q->root;
    while (n && (n->kind == IR_FILTER || n->kind == IR_MAP))
        n = n->in[0];
    if (!n)
        return 0;
    int nk = n->kind == IR_JOIN ? n->njk
             : (n->kind == IR_GROUPBY || n->kind == IR_DISTINCT || n->kind == IR_FOLD) ? n->nkeys
                                                                                       : 0;
    int rc = 0, first = 1;
    for (int k = 0; k < nk; k++) {
        for (int c = 0; c < ncols && c < q->root->ncols; c++) {
            if (strcmp(q->root->cols[c].name, n->cols[k].name) != 0)
                continue;
            if (!first)
                rc |= put(b, "|");
            rc |= put_value(b, &cols[c], false);
            first = 0;
        }
    }
    return rc ? -ENOMEM : 0;
}

void rowbuf_free(struct rowbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}
