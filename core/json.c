/*
 * json.c - strict JSON reader, DOM builder and writer (see json.h).
 *
 * The reader is recursive descent with an explicit depth bound; it checks
 * every byte it consumes against the end of the input, so truncated or
 * hostile input ends in an error message, not a read past the buffer. Nodes
 * and strings come from a block allocator owned by the document.
 *
 * The writer goes through one emitter (struct sink) that either writes to a
 * FILE or feeds FNV-1a, so the bytes hashed for a fingerprint are exactly the
 * bytes a compact write produces.
 */
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- allocation ---- */

struct json_block {
    struct json_block *next;
    size_t used, cap;
    max_align_t data[];
};

static void *doc_alloc(struct json_doc *d, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct json_block *b = d->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        b = malloc(sizeof *b + cap);
        if (!b) {
            fprintf(stderr, "htsc: out of memory\n");
            exit(2);
        }
        b->cap = cap;
        b->used = 0;
        b->next = d->blocks;
        d->blocks = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

void json_doc_free(struct json_doc *doc)
{
    struct json_block *b = doc->blocks;
    while (b) {
        struct json_block *n = b->next;
        free(b);
        b = n;
    }
    doc->blocks = NULL;
}

struct json *json_new(struct json_doc *doc, enum json_type t)
{
    struct json *v = doc_alloc(doc, sizeof *v);
    v->type = t;
    return v;
}

struct json *json_new_int(struct json_doc *doc, int64_t i)
{
    struct json *v = json_new(doc, JSON_NUM);
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)i);
    char *s = doc_alloc(doc, (size_t)n + 1);
    memcpy(s, buf, (size_t)n);
    v->s = s;
    v->len = (size_t)n;
    v->is_int = true;
    v->i = i;
    return v;
}

struct json *json_new_strn(struct json_doc *doc, const char *s, size_t n)
{
    struct json *v = json_new(doc, JSON_STR);
    char *c = doc_alloc(doc, n + 1);
    memcpy(c, s, n);
    v->s = c;
    v->len = n;
    return v;
}

struct json *json_new_str(struct json_doc *doc, const char *s)
{
    return json_new_strn(doc, s, strlen(s));
}

struct json *json_new_bool(struct json_doc *doc, bool b)
{
    struct json *v = json_new(doc, JSON_BOOL);
    v->b = b;
    return v;
}

static void grow(struct json_doc *doc, struct json *a)
{
    if (a->n < a->cap)
        return;
    int cap = a->cap ? a->cap * 2 : 8;
    struct json **items = doc_alloc(doc, (size_t)cap * sizeof *items);
    if (a->n)
        memcpy(items, a->items, (size_t)a->n * sizeof *items);
    a->items = items;
    if (a->type == JSON_OBJ) {
        const char **keys = doc_alloc(doc, (size_t)cap * sizeof *keys);
        size_t *kl = doc_alloc(doc, (size_t)cap * sizeof *kl);
        if (a->n) {
            memcpy(keys, a->keys, (size_t)a->n * sizeof *keys);
            memcpy(kl, a->klens, (size_t)a->n * sizeof *kl);
        }
        a->keys = keys;
        a->klens = kl;
    }
    a->cap = cap;
}

void json_push(struct json_doc *doc, struct json *a, struct json *v)
{
    grow(doc, a);
    a->items[a->n++] = v;
}

void json_set(struct json_doc *doc, struct json *o, const char *key,
              struct json *v)
{
    grow(doc, o);
    size_t n = strlen(key);
    char *k = doc_alloc(doc, n + 1);
    memcpy(k, key, n);
    o->keys[o->n] = k;
    o->klens[o->n] = n;
    o->items[o->n++] = v;
}

const struct json *json_get(const struct json *o, const char *key)
{
    if (!o || o->type != JSON_OBJ)
        return NULL;
    size_t n = strlen(key);
    for (int i = 0; i < o->n; i++)
        if (o->klens[i] == n && memcmp(o->keys[i], key, n) == 0)
            return o->items[i];
    return NULL;
}

/* ---- reader ---- */

struct reader {
    struct json_doc *doc;
    const char *p, *end, *start;
    char *err;
    size_t errlen;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void fail(struct reader *r,
                                                       const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    int line = 1, col = 1;
    for (const char *c = r->start; c < r->p && c < r->end; c++) {
        if (*c == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    int n = snprintf(r->err, r->errlen, "%d:%d: ", line, col);
    if (n < 0 || (size_t)n >= r->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void skip_ws(struct reader *r)
{
    while (r->p < r->end &&
           (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* Records a node's byte offset (line 0): line and column are only worked
 * out for an error message, so parsing stays linear. */
static void where(struct reader *r, struct json *v)
{
    v->line = 0;
    v->col = (int)(r->p - r->start);
}

static struct json *parse_value(struct reader *r, int depth);

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(struct reader *r, unsigned *out)
{
    if (r->end - r->p < 4) {
        fail(r, "JSON: truncated \\u escape");
        return false;
    }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(r->p[i]);
        if (h < 0) {
            fail(r, "JSON: bad \\u escape");
            return false;
        }
        v = v * 16 + (unsigned)h;
    }
    r->p += 4;
    *out = v;
    return true;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0. */
static int utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    int n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        min = 0x80;
        c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        min = 0x800;
        c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (end - p < n)
        return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return n;
}

bool json_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        int k = utf8_seq(p, end);
        if (!k)
            return false;
        p += k;
    }
    return true;
}

static size_t put_utf8(char *o, unsigned c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xc0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* Parses a string at r->p (the opening quote); its bytes into *s, *n. */
static bool parse_string(struct reader *r, const char **s, size_t *n)
{
    r->p++; /* " */
    const char *q = r->p;
    /* the decoded string is never longer than the raw text */
    while (q < r->end && *q != '"') {
        if (*q == '\\')
            q++;
        q++;
    }
    if (q >= r->end) {
        fail(r, "JSON: unterminated string");
        return false;
    }
    char *out = doc_alloc(r->doc, (size_t)(q - r->p) + 1);
    size_t len = 0;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20) {
            fail(r, "JSON: control character in string");
            return false;
        }
        if (c != '\\') {
            int k = utf8_seq((const unsigned char *)r->p, (const unsigned char *)r->end);
            if (!k) {
                fail(r, "JSON: invalid UTF-8 in string");
                return false;
            }
            memcpy(out + len, r->p, (size_t)k);
            len += (size_t)k;
            r->p += k;
            continue;
        }
        r->p++;
        if (r->p >= r->end) {
            fail(r, "JSON: unterminated string");
            return false;
        }
        char e = *r->p++;
        switch (e) {
        case '"': out[len++] = '"'; break;
        case '\\': out[len++] = '\\'; break;
        case '/': out[len++] = '/'; break;
        case 'b': out[len++] = '\b'; break;
        case 'f': out[len++] = '\f'; break;
        case 'n': out[len++] = '\n'; break;
        case 'r': out[len++] = '\r'; break;
        case 't': out[len++] = '\t'; break;
        case 'u': {
            unsigned c1;
            if (!read_hex4(r, &c1))
                return false;
            if (c1 >= 0xdc00 && c1 <= 0xdfff) {
                fail(r, "JSON: lone low surrogate");
                return false;
            }
            if (c1 >= 0xd800 && c1 <= 0xdbff) {
                unsigned c2;
                if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u') {
                    fail(r, "JSON: lone high surrogate");
                    return false;
                }
                r->p += 2;
                if (!read_hex4(r, &c2))
                    return false;
                if (c2 < 0xdc00 || c2 > 0xdfff) {
                    fail(r, "JSON: bad surrogate pair");
                    return false;
                }
                c1 = 0x10000 + ((c1 - 0xd800) << 10) + (c2 - 0xdc00);
            }
            len += put_utf8(out + len, c1);
            break;
        }
        default:
            fail(r, "JSON: unknown escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?');
            return false;
        }
    }
    if (r->p >= r->end) {
        fail(r, "JSON: unterminated string");
        return false;
    }
    r->p++; /* " */
    out[len] = 0;
    *s = out;
    *n = len;
    return true;
}

static bool is_digit(const struct reader *r)
{
    return r->p < r->end && *r->p >= '0' && *r->p <= '9';
}

static struct json *parse_number(struct reader *r)
{
    const char *b = r->p;
    bool integer = true;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (!is_digit(r)) {
        fail(r, "JSON: bad number");
        return NULL;
    }
    if (*r->p == '0') {
        r->p++;
        if (is_digit(r)) {
            fail(r, "JSON: leading zero in number");
            return NULL;
        }
    } else {
        while (is_digit(r))
            r->p++;
    }
    if (r->p < r->end && *r->p == '.') {
        integer = false;
        r->p++;
        if (!is_digit(r)) {
            fail(r, "JSON: bad number");
            return NULL;
        }
        while (is_digit(r))
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        integer = false;
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (!is_digit(r)) {
            fail(r, "JSON: bad number");
            return NULL;
        }
        while (is_digit(r))
            r->p++;
    }
    struct json *v = json_new(r->doc, JSON_NUM);
    size_t n = (size_t)(r->p - b);
    char *s = doc_alloc(r->doc, n + 1);
    memcpy(s, b, n);
    v->s = s;
    v->len = n;
    if (integer && n <= 20) {
        errno = 0;
        char *e;
        long long x = strtoll(s, &e, 10);
        if (errno == 0 && *e == 0) {
            v->is_int = true;
            v->i = x;
        }
    }
    return v;
}

static bool literal(struct reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) {
        fail(r, "JSON: unexpected character");
        return false;
    }
    r->p += n;
    return true;
}

static struct json *parse_value(struct reader *r, int depth)
{
    skip_ws(r);
    if (r->p >= r->end) {
        fail(r, "JSON: unexpected end of input");
        return NULL;
    }
    if (depth > JSON_MAX_DEPTH) {
        fail(r, "JSON: nested deeper than %d", JSON_MAX_DEPTH);
        return NULL;
    }
    struct json *v;
    switch (*r->p) {
    case '{': {
        v = json_new(r->doc, JSON_OBJ);
        where(r, v);
        r->p++;
        skip_ws(r);
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return v;
        }
        for (;;) {
            skip_ws(r);
            if (r->p >= r->end || *r->p != '"') {
                fail(r, "JSON: expected a string key");
                return NULL;
            }
            const char *k;
            size_t kn;
            if (!parse_string(r, &k, &kn))
                return NULL;
            for (int i = 0; i < v->n; i++)
                if (v->klens[i] == kn && memcmp(v->keys[i], k, kn) == 0) {
                    fail(r, "JSON: duplicate key \"%.*s\"", (int)(kn > 64 ? 64 : kn), k);
                    return NULL;
                }
            skip_ws(r);
            if (r->p >= r->end || *r->p != ':') {
                fail(r, "JSON: expected ':'");
                return NULL;
            }
            r->p++;
            struct json *item = parse_value(r, depth + 1);
            if (!item)
                return NULL;
            grow(r->doc, v);
            v->keys[v->n] = k;
            v->klens[v->n] = kn;
            v->items[v->n++] = item;
            skip_ws(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == '}') {
                r->p++;
                return v;
            }
            fail(r, "JSON: expected ',' or '}'");
            return NULL;
        }
    }
    case '[': {
        v = json_new(r->doc, JSON_ARR);
        where(r, v);
        r->p++;
        skip_ws(r);
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return v;
        }
        for (;;) {
            struct json *item = parse_value(r, depth + 1);
            if (!item)
                return NULL;
            json_push(r->doc, v, item);
            skip_ws(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == ']') {
                r->p++;
                return v;
            }
            fail(r, "JSON: expected ',' or ']'");
            return NULL;
        }
    }
    case '"': {
        v = json_new(r->doc, JSON_STR);
        where(r, v);
        if (!parse_string(r, &v->s, &v->len))
            return NULL;
        return v;
    }
    case 't':
        if (!literal(r, "true"))
            return NULL;
        return json_new_bool(r->doc, true);
    case 'f':
        if (!literal(r, "false"))
            return NULL;
        return json_new_bool(r->doc, false);
    case 'n':
        if (!literal(r, "null"))
            return NULL;
        return json_new(r->doc, JSON_NULL);
    default:
        if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
            return parse_number(r);
        fail(r, "JSON: unexpected character");
        return NULL;
    }
}

struct json *json_parse(struct json_doc *doc, const char *text, size_t len,
                        char *err, size_t errlen)
{
    struct reader r = {.doc = doc, .p = text, .end = text + len, .start = text,
                       .err = err, .errlen = errlen};
    if (errlen)
        err[0] = 0;
    struct json *v = parse_value(&r, 0);
    if (!v)
        return NULL;
    skip_ws(&r);
    if (r.p != r.end) {
        fail(&r, "JSON: text after the document");
        return NULL;
    }
    return v;
}

/* ---- writer ---- */

struct sink {
    FILE *f;      /* NULL: hash only */
    uint64_t h;
    int err;
};

static void emit(struct sink *k, const char *p, size_t n)
{
    if (k->f) {
        if (n && fwrite(p, 1, n, k->f) != n)
            k->err = -EIO;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        k->h ^= (uint8_t)p[i];
        k->h *= 0x100000001b3ULL;
    }
}

__attribute__((format(printf, 2, 3))) static void emitf(struct sink *k,
                                                        const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        emit(k, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void emit_string(struct sink *k, const char *s, size_t n)
{
    emit(k, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default: break;
        }
        if (!esc && c >= 0x20)
            continue;
        emit(k, s + run, i - run);
        run = i + 1;
        if (esc)
            emit(k, esc, strlen(esc));
        else
            emitf(k, "\\u%04x", c);
    }
    emit(k, s + run, n - run);
    emit(k, "\"", 1);
}

static void newline(struct sink *k, int indent, int level)
{
    if (!indent)
        return;
    emit(k, "\n", 1);
    for (int i = 0; i < indent * level; i++)
        emit(k, " ", 1);
}

/* Short arrays of scalars stay on one line when indenting. */
static bool flat(const struct json *v)
{
    if (v->n > 16)
        return false;
    for (int i = 0; i < v->n; i++)
        if (v->items[i]->type == JSON_ARR || v->items[i]->type == JSON_OBJ)
            return false;
    return true;
}

static void write_value(struct sink *k, const struct json *v, int indent,
                        int level)
{
    switch (v->type) {
    case JSON_NULL: emit(k, "null", 4); return;
    case JSON_BOOL: v->b ? emit(k, "true", 4) : emit(k, "false", 5); return;
    case JSON_NUM: emit(k, v->s, v->len); return;
    case JSON_STR: emit_string(k, v->s, v->len); return;
    case JSON_ARR:
    case JSON_OBJ: {
        bool obj = v->type == JSON_OBJ;
        int ind = obj || !flat(v) ? indent : 0;
        emit(k, obj ? "{" : "[", 1);
        for (int i = 0; i < v->n; i++) {
            if (i)
                emit(k, ind ? "," : (indent ? ", " : ","), ind || !indent ? 1 : 2);
            newline(k, ind, level + 1);
            if (obj) {
                emit_string(k, v->keys[i], v->klens[i]);
                emit(k, indent ? ": " : ":", indent ? 2 : 1);
            }
            write_value(k, v->items[i], indent, level + 1);
        }
        if (v->n)
            newline(k, ind, level);
        emit(k, obj ? "}" : "]", 1);
        return;
    }
    }
}

int json_write(const struct json *v, FILE *out, int indent)
{
    struct sink k = {.f = out};
    write_value(&k, v, indent, 0);
    return k.err;
}

uint64_t json_hash(const struct json *v)
{
    struct sink k = {.h = 0xcbf29ce484222325ULL};
    write_value(&k, v, 0, 0);
    return k.h;
}
