/*
 * rowfmt.c - JSON rows and group keys (see rowfmt.h).
 */
#include "rowfmt.h"
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct qfmt {
    char *text;     /* the fragments, one after the other */
    size_t *off;    /* fragment c: text[off[c] .. off[c+1]); 0 is the head
                     * ({"query":"NAME","window_start":), 1 is
                     * ,"window_end":, 2+c is ,"COLUMN": */
    int nfrag;
    size_t fixed;   /* the fragments' bytes, plus the closing brace */
    int *keycols;   /* output columns of the group key, in key order */
    int nkeys;
};

struct rowfmt {
    int n;
    struct qfmt *qs;
};

int rowbuf_reserve(struct rowbuf *b, size_t more)
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

/* Appends s as a JSON string (escaped as values are). */
static int put_name(struct rowbuf *b, const char *s)
{
    hts_value v = {.type = TY_STR, .present = 1};
    v.u.s.p = (const uint8_t *)s;
    v.u.s.n = (uint32_t)strlen(s);
    if (rowbuf_reserve(b, hts_value_max_len(&v)) < 0)
        return -ENOMEM;
    b->n = (size_t)(hts_value_put(b->p + b->n, &v, true) - b->p);
    return 0;
}

static int put_str(struct rowbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (rowbuf_reserve(b, n) < 0)
        return -ENOMEM;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

/* The key columns: those named like the keys of the nearest grouping node
 * above the output (through filters and maps that keep the names). */
static int key_columns(const struct ir_query *q, int *out)
{
    const struct ir_node *n = q->root;
    while (n && (n->kind == IR_FILTER || n->kind == IR_MAP))
        n = n->in[0];
    if (!n)
        return 0;
    int nk = n->kind == IR_JOIN ? n->njk
             : (n->kind == IR_GROUPBY || n->kind == IR_DISTINCT || n->kind == IR_FOLD) ? n->nkeys
                                                                                       : 0;
    int m = 0;
    for (int k = 0; k < nk; k++)
        for (int c = 0; c < q->root->ncols; c++)
            if (strcmp(q->root->cols[c].name, n->cols[k].name) == 0 && out)
                out[m++] = c;
            else if (strcmp(q->root->cols[c].name, n->cols[k].name) == 0)
                m++;
    return m;
}

static int prepare(struct qfmt *f, const struct ir_query *q)
{
    struct rowbuf t = {0};
    int nc = q->root->ncols;
    f->nfrag = nc + 2;
    f->off = calloc((size_t)f->nfrag + 1, sizeof *f->off);
    f->nkeys = key_columns(q, NULL);
    f->keycols = calloc((size_t)f->nkeys + 1, sizeof *f->keycols);
    if (!f->off || !f->keycols)
        return -ENOMEM;
    key_columns(q, f->keycols);
    int rc = put_str(&t, "{\"query\":");
    rc |= put_name(&t, q->name);
    rc |= put_str(&t, ",\"window_start\":");
    f->off[1] = t.n;
    rc |= put_str(&t, ",\"window_end\":");
    for (int c = 0; c < nc; c++) {
        f->off[2 + c] = t.n;
        rc |= put_str(&t, ",");
        rc |= put_name(&t, q->root->cols[c].name);
        rc |= put_str(&t, ":");
    }
    f->off[f->nfrag] = t.n;
    f->fixed = t.n + 1;
    f->text = t.p;
    return rc ? -ENOMEM : 0;
}

void rowfmt_free(struct rowfmt *rf)
{
    if (!rf)
        return;
    for (int i = 0; i < rf->n; i++) {
        free(rf->qs[i].text);
        free(rf->qs[i].off);
        free(rf->qs[i].keycols);
    }
    free(rf->qs);
    free(rf);
}

struct rowfmt *rowfmt_new(const struct ir_program *p)
{
    struct rowfmt *rf = calloc(1, sizeof *rf);
    if (!rf)
        return NULL;
    rf->qs = calloc((size_t)p->nqueries + 1, sizeof *rf->qs);
    if (!rf->qs) {
        free(rf);
        return NULL;
    }
    rf->n = p->nqueries;
    for (int i = 0; i < p->nqueries; i++)
        if (prepare(&rf->qs[p->queries[i]->index], p->queries[i]) < 0) {
            rowfmt_free(rf);
            return NULL;
        }
    return rf;
}

static char *frag(char *d, const struct qfmt *f, int i)
{
    size_t n = f->off[i + 1] - f->off[i];
    memcpy(d, f->text + f->off[i], n);
    return d + n;
}

int rowfmt_json(const struct rowfmt *rf, struct rowbuf *b, const struct ir_query *q,
                int64_t ws, int64_t we, const hts_value *cols, int ncols)
{
    const struct qfmt *f = &rf->qs[q->index];
    if (ncols > f->nfrag - 2)
        ncols = f->nfrag - 2;
    size_t need = f->fixed + 40;
    for (int i = 0; i < ncols; i++)
        need += hts_value_max_len(&cols[i]);
    if (rowbuf_reserve(b, need) < 0)
        return -ENOMEM;
    char *d = b->p + b->n;
    d = frag(d, f, 0);
    d = hts_put_int(d, ws);
    d = frag(d, f, 1);
    d = hts_put_int(d, we);
    for (int i = 0; i < ncols; i++) {
        d = frag(d, f, 2 + i);
        d = hts_value_put(d, &cols[i], true);
    }
    *d++ = '}';
    b->n = (size_t)(d - b->p);
    return 0;
}

int rowfmt_key(const struct rowfmt *rf, struct rowbuf *b, const struct ir_query *q,
               const hts_value *cols, int ncols)
{
    const struct qfmt *f = &rf->qs[q->index];
    size_t need = (size_t)f->nkeys;
    for (int k = 0; k < f->nkeys; k++)
        if (f->keycols[k] < ncols)
            need += hts_value_max_len(&cols[f->keycols[k]]);
    if (rowbuf_reserve(b, need) < 0)
        return -ENOMEM;
    char *d = b->p + b->n;
    bool first = true;
    for (int k = 0; k < f->nkeys; k++) {
        if (f->keycols[k] >= ncols)
            continue;
        if (!first)
            *d++ = '|';
        d = hts_value_put(d, &cols[f->keycols[k]], false);
        first = false;
    }
    b->n = (size_t)(d - b->p);
    return 0;
}

void rowbuf_free(struct rowbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* The schema of one column of type t: every column may be absent (null). */
static struct json *col_schema(struct json_doc *d, enum hts_type t, const char *name)
{
    struct json *o = json_new(d, JSON_OBJ), *types = json_new(d, JSON_ARR);
    const char *json_type = "null", *format = NULL, *pattern = NULL, *what = NULL;
    switch (t) {
    case TY_INT: json_type = "integer"; break;
    case TY_BOOL: json_type = "boolean"; break;
    case TY_IPV4: json_type = "string"; format = "ipv4"; break;
    case TY_IPV6: json_type = "string"; format = "ipv6"; break;
    case TY_MAC:
        json_type = "string";
        pattern = "^[0-9a-f]{2}(:[0-9a-f]{2}){5}$";
        break;
    case TY_STR:
        json_type = "string";
        what = "bytes as characters U+0000..U+00FF (a byte outside printable ASCII as \\u00XX)";
        break;
    case TY_PREFIX4:
        json_type = "string";
        pattern = "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$";
        break;
    case TY_PREFIX6: json_type = "string"; pattern = "^[0-9a-f:.]+/[0-9]{1,3}$"; break;
    default: what = "a type rows do not carry: always null"; break;
    }
    if (strcmp(json_type, "null") != 0)
        json_push(d, types, json_new_str(d, json_type));
    json_push(d, types, json_new_str(d, "null"));
    json_set(d, o, "type", types);
    if (format)
        json_set(d, o, "format", json_new_str(d, format));
    if (pattern)
        json_set(d, o, "pattern", json_new_str(d, pattern));
    char desc[512];
    snprintf(desc, sizeof desc, "%s (%s)%s%s; null when absent", name, hts_type_name(t),
             what ? ": " : "", what ? what : "");
    json_set(d, o, "description", json_new_str(d, desc));
    return o;
}

int rowfmt_schema(const struct ir_query *q, const char *topic_prefix, FILE *out)
{
    struct json_doc d = {0};
    struct json *s = json_new(&d, JSON_OBJ);
    char text[1024];
    json_set(&d, s, "$schema", json_new_str(&d, "https://json-schema.org/draft/2020-12/schema"));
    snprintf(text, sizeof text, "urn:hts:query:%s", q->name);
    json_set(&d, s, "$id", json_new_str(&d, text));
    json_set(&d, s, "title", json_new_str(&d, q->name));
    int nk = key_columns(q, NULL);
    snprintf(text, sizeof text,
             "A row of query %s as htsc run prints it and htsd produces it to Kafka topic "
             "%s%s (JSON, one message per row%s). Message key: %s.",
             q->name, topic_prefix, q->name,
             q->per_packet ? "; by default htsd packs per-packet rows in HTX1 batches, "
                             "which htsc decode turns into these rows"
                           : "",
             nk ? "the group key columns' values, joined by '|'" : "none");
    json_set(&d, s, "description", json_new_str(&d, text));
    json_set(&d, s, "type", json_new_str(&d, "object"));
    struct json *props = json_new(&d, JSON_OBJ), *req = json_new(&d, JSON_ARR);
    struct json *qn = json_new(&d, JSON_OBJ);
    json_set(&d, qn, "const", json_new_str(&d, q->name));
    json_set(&d, props, "query", qn);
    static const char *const bounds[2][2] = {
        {"window_start", "the window's start, ns since the epoch (per-packet rows without a "
                         "window: the packet's time)"},
        {"window_end", "the window's end, ns since the epoch, exclusive (per-packet rows "
                       "without a window: the packet's time)"}};
    json_push(&d, req, json_new_str(&d, "query"));
    for (int i = 0; i < 2; i++) {
        struct json *b = json_new(&d, JSON_OBJ);
        json_set(&d, b, "type", json_new_str(&d, "integer"));
        json_set(&d, b, "description", json_new_str(&d, bounds[i][1]));
        json_set(&d, props, bounds[i][0], b);
        json_push(&d, req, json_new_str(&d, bounds[i][0]));
    }
    for (int c = 0; c < q->root->ncols; c++) {
        const struct ir_col *col = &q->root->cols[c];
        json_set(&d, props, col->name, col_schema(&d, col->type, col->name));
        json_push(&d, req, json_new_str(&d, col->name));
    }
    json_set(&d, s, "properties", props);
    json_set(&d, s, "required", req);
    json_set(&d, s, "additionalProperties", json_new_bool(&d, false));
    int rc = json_write(s, out, 2);
    if (fputc('\n', out) == EOF)
        rc = -EIO;
    json_doc_free(&d);
    return rc;
}
