/*
 * exec.c - the reference executor (see exec.h and docs/semantics.md).
 *
 * Shape. Each query's DAG splits in two regions:
 *  - the streaming region: nodes with no stateful node upstream (the source,
 *    per-packet filter, sample, map, export). They run once per packet.
 *  - the windowed region: stateful nodes and everything after them. A
 *    stateful node fed by the streaming region keeps an accumulator per open
 *    window instance, updated per packet; the rest runs when the window
 *    closes, over the rows of its inputs ("batch").
 * Stateful operators have one implementation (struct acc) used both ways:
 * fed packet by packet, or fed a batch of rows.
 *
 * Memory: a window instance owns an arena holding its accumulators, keys and
 * rows; closing the window frees it whole. Nothing here is on a hot path that
 * matters; the runtime has its own fast paths and is tested against this.
 */
#include "exec.h"
#include "cms.h"
#include "hll.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rows ---- */

struct rowlist {
    hts_value **v;
    int n, cap;
    int ncols;
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "htsc: out of memory\n");
        exit(2);
    }
    return p;
}

static void rows_push(struct arena *ar, struct rowlist *l, hts_value *row)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        hts_value **v = arena_alloc(ar, (size_t)cap * sizeof *v);
        if (l->n)
            memcpy(v, l->v, (size_t)l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = row;
}

/* Copies a value so that it outlives the packet (string bytes included). */
static hts_value own(struct arena *ar, hts_value v)
{
    if (v.present && v.type == TY_STR && v.u.s.n) {
        uint8_t *b = arena_alloc(ar, v.u.s.n);
        memcpy(b, v.u.s.p, v.u.s.n);
        v.u.s.p = b;
    }
    return v;
}

static hts_value *row_copy(struct arena *ar, const hts_value *src, int n)
{
    hts_value *r = arena_alloc(ar, (size_t)(n ? n : 1) * sizeof *r);
    for (int i = 0; i < n; i++)
        r[i] = own(ar, src[i]);
    return r;
}

/* ---- expressions ---- */

struct env {
    const struct hts_pkt *pkt; /* packet-level input */
    const hts_value *row;      /* tuple input */
    hts_value *state;          /* fold state */
};

static hts_value eval(const struct ast_expr *e, const struct env *env);

/* three-valued logic: absent is "unknown" */
static hts_value tv_absent(void) { return hts_absent(TY_BOOL); }

static bool prefix_match(const hts_value *a, const hts_value *p)
{
    if (a->type == TY_IPV4 && p->type == TY_PREFIX4) {
        uint32_t mask = p->plen ? 0xffffffffu << (32 - p->plen) : 0;
        return (a->u.ip4 & mask) == p->u.ip4;
    }
    if (a->type == TY_IPV6 && p->type == TY_PREFIX6) {
        int bits = p->plen;
        for (int i = 0; i < 16 && bits > 0; i++, bits -= 8) {
            uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
            if ((a->u.ip6[i] & m) != (p->u.ip6[i] & m))
                return false;
        }
        return true;
    }
    return false;
}

static hts_value eval_in(const struct ast_expr *e, const struct env *env)
{
    hts_value a = eval(e->a, env);
    if (!a.present)
        return tv_absent();
    const struct ast_expr *b = e->b;
    if (b->kind == E_SET) {
        for (int i = 0; i < b->nargs; i++) {
            hts_value x = eval(b->args[i], env); /* {79 + 1}, {SYN|ACK} */
            if (x.type == TY_PREFIX4 || x.type == TY_PREFIX6) {
                if (prefix_match(&a, &x))
                    return hts_bool(true);
            } else if (hts_value_eq(&a, &x)) {
                return hts_bool(true);
            }
        }
        return hts_bool(false);
    }
    if (b->kind == E_RANGE) {
        hts_value lo = eval(b->a, env), hi = eval(b->b, env);
        if (!lo.present || !hi.present)
            return tv_absent();
        return hts_bool(a.u.i >= lo.u.i && a.u.i <= hi.u.i);
    }
    hts_value p = eval(b, env);
    if (!p.present)
        return tv_absent();
    return hts_bool(prefix_match(&a, &p));
}

static hts_value mask_addr(hts_value a, int64_t plen)
{
    if (a.type == TY_IPV4) {
        a.u.ip4 &= plen ? 0xffffffffu << (32 - plen) : 0;
    } else {
        int bits = (int)plen;
        for (int i = 0; i < 16; i++, bits -= 8)
            a.u.ip6[i] &= bits >= 8 ? 0xff : bits > 0 ? (uint8_t)(0xff << (8 - bits)) : 0;
    }
    return a;
}

static bool bytes_has(const hts_str *h, const hts_str *n, enum ast_op op)
{
    if (n->n > h->n)
        return false;
    if (n->n == 0)
        return true;
    if (op == OP_STARTSWITH)
        return memcmp(h->p, n->p, n->n) == 0;
    if (op == OP_ENDSWITH)
        return memcmp(h->p + h->n - n->n, n->p, n->n) == 0;
    return memmem(h->p, h->n, n->p, n->n) != NULL;
}

static hts_value eval_binary(const struct ast_expr *e, const struct env *env)
{
    if (e->op == OP_IN)
        return eval_in(e, env);
    hts_value a = eval(e->a, env);
    if (e->op == OP_AND || e->op == OP_OR) {
        bool is_and = e->op == OP_AND;
        if (a.present && a.u.i == !is_and) /* false and _, true or _ */
            return hts_bool(!is_and);
        hts_value b = eval(e->b, env);
        if (b.present && b.u.i == !is_and)
            return hts_bool(!is_and);
        if (!a.present || !b.present)
            return tv_absent();
        return hts_bool(is_and);
    }
    hts_value b = eval(e->b, env);
    if (!a.present || !b.present)
        return hts_absent(e->type);
    int64_t x = a.u.i, y = b.u.i;
    switch (e->op) {
    case OP_EQ: return hts_bool(hts_value_eq(&a, &b));
    case OP_NE: return hts_bool(!hts_value_eq(&a, &b));
    case OP_LT: return hts_bool(hts_value_cmp(&a, &b) < 0);
    case OP_LE: return hts_bool(hts_value_cmp(&a, &b) <= 0);
    case OP_GT: return hts_bool(hts_value_cmp(&a, &b) > 0);
    case OP_GE: return hts_bool(hts_value_cmp(&a, &b) >= 0);
    case OP_HAS:
        if (a.type == TY_TYPESET) {
            const uint16_t *t = (const uint16_t *)(const void *)a.u.s.p;
            for (uint32_t i = 0; i < a.u.s.n; i++)
                if (t[i] == y)
                    return hts_bool(true);
            return hts_bool(false);
        }
        return hts_bool((x & y) == y);
    case OP_CONTAINS:
    case OP_STARTSWITH:
    case OP_ENDSWITH:
        return hts_bool(bytes_has(&a.u.s, &b.u.s, e->op));
    /* integer arithmetic wraps (two's complement), as docs/semantics.md says */
    case OP_BOR: return hts_int(x | y);
    case OP_BAND: return hts_int(x & y);
    case OP_ADD: return hts_int((int64_t)((uint64_t)x + (uint64_t)y));
    case OP_SUB: return hts_int((int64_t)((uint64_t)x - (uint64_t)y));
    case OP_MUL: return hts_int((int64_t)((uint64_t)x * (uint64_t)y));
    case OP_DIV:
        if (a.type == TY_IPV4 || a.type == TY_IPV6)
            return mask_addr(a, y);
        /* fallthrough */
    case OP_MOD:
        if (y == 0 || (x == INT64_MIN && y == -1))
            return hts_absent(TY_INT); /* no value, no trap */
        return hts_int(e->op == OP_DIV ? x / y : x % y);
    default:
        return hts_absent(e->type);
    }
}

static hts_value eval_call(const struct ast_expr *e, const struct env *env)
{
    hts_value a = eval(e->args[0], env);
    switch ((enum hts_fn)e->fn) {
    case FN_MIN2:
    case FN_MAX2: {
        hts_value b = eval(e->args[1], env);
        if (!a.present || !b.present)
            return hts_absent(TY_INT);
        bool lt = a.u.i < b.u.i;
        return e->fn == FN_MIN2 ? (lt ? a : b) : (lt ? b : a);
    }
    case FN_ABS:
        if (!a.present)
            return a;
        return hts_int(a.u.i < 0 ? (int64_t)(0 - (uint64_t)a.u.i) : a.u.i);
    case FN_HASH:
        return hts_int((int64_t)(hts_value_hash(&a, 0) & INT64_MAX));
    case FN_COALESCE:
        return a.present ? a : eval(e->args[1], env);
    case FN_PRESENT:
        return hts_bool(a.present);
    default:
        return hts_absent(e->type);
    }
}

static hts_value eval(const struct ast_expr *e, const struct env *env)
{
    switch (e->kind) {
    case E_LIT:
        return e->lit;
    case E_NAME:
        switch (e->ref_kind) {
        case REF_FIELD:
            return hts_pkt_value(env->pkt, (enum hts_field)e->ref);
        case REF_COL:
            return env->row[e->ref];
        case REF_STATE:
            return env->state[e->ref];
        default:
            return hts_absent(e->type);
        }
    case E_UNARY: {
        hts_value a = eval(e->a, env);
        if (!a.present)
            return a;
        if (e->op == OP_NOT)
            return hts_bool(!a.u.i);
        return hts_int((int64_t)(0 - (uint64_t)a.u.i));
    }
    case E_BINARY:
        return eval_binary(e, env);
    case E_CALL:
        return eval_call(e, env);
    default:
        return hts_absent(e->type);
    }
}

static bool eval_true(const struct ast_expr *e, const struct env *env)
{
    hts_value v = eval(e, env);
    return v.present && v.u.i;
}

hts_value exec_eval(const struct ast_expr *e, const struct hts_pkt *pkt,
                    const hts_value *row)
{
    struct env env = {.pkt = pkt, .row = row};
    return eval(e, &env);
}

/* ---- keyed tables ---- */

struct entry {
    uint64_t hash;
    hts_value *key;
    hts_value *vals; /* aggregates' results or fold state */
    int64_t *aux;    /* per aggregate: count of inputs (sum/avg/min/max) */
};

struct table {
    struct entry **slots;
    size_t cap, n;
};

static uint64_t key_hash(const hts_value *k, int n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < n; i++)
        h = hts_value_hash(&k[i], h);
    return h;
}

static bool key_eq(const hts_value *a, const hts_value *b, int n)
{
    for (int i = 0; i < n; i++)
        if (!hts_value_eq(&a[i], &b[i]))
            return false;
    return true;
}

/* Finds the entry for key, or creates it (created = true) in arena ar. */
static struct entry *table_get(struct table *t, struct arena *ar,
                               const hts_value *key, int nk, bool *created,
                               size_t max)
{
    if (t->n * 2 >= t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct entry **s = calloc(cap, sizeof *s);
        if (!s) {
            fprintf(stderr, "htsc: out of memory\n");
            exit(2);
        }
        for (size_t i = 0; i < t->cap; i++) {
            struct entry *e = t->slots[i];
            if (!e)
                continue;
            size_t j = e->hash & (cap - 1);
            while (s[j])
                j = (j + 1) & (cap - 1);
            s[j] = e;
        }
        free(t->slots);
        t->slots = s;
        t->cap = cap;
    }
    uint64_t h = key_hash(key, nk);
    size_t j = h & (t->cap - 1);
    for (; t->slots[j]; j = (j + 1) & (t->cap - 1)) {
        struct entry *e = t->slots[j];
        if (e->hash == h && key_eq(e->key, key, nk)) {
            *created = false;
            return e;
        }
    }
    if (max && t->n >= max) { /* full: the caller counts the refusal */
        *created = false;
        return NULL;
    }
    struct entry *e = arena_alloc(ar, sizeof *e);
    e->hash = h;
    e->key = row_copy(ar, key, nk);
    t->slots[j] = e;
    t->n++;
    *created = true;
    return e;
}

static void table_free(struct table *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- accumulators: one per stateful node and window instance ---- */

struct acc {
    const struct ir_node *n;
    struct arena *ar;
    struct table tab;
    struct rowlist emitted; /* fold with emit */
    int64_t *hist;          /* histogram: nedges + 1 counters */
    struct exec_stats *st;
    size_t max_keys;        /* 0: unbounded */
    int64_t *cms;           /* sketch groupby: naggs x CMS_CELLS counters */
    int parts;              /* sketch groupby: the traffic is split in this
                             * many parts (workers x sites) */
};

static void acc_init(struct acc *a, const struct ir_node *n, struct arena *ar,
                     struct exec_stats *st, size_t max_keys, int parts)
{
    memset(a, 0, sizeof *a);
    a->n = n;
    a->ar = ar;
    a->st = st;
    a->max_keys = max_keys;
    a->parts = parts > 0 ? parts : 1;
    if (n->kind == IR_HISTOGRAM)
        a->hist = arena_alloc(ar, (size_t)(n->nedges + 1) * sizeof *a->hist);
    if (n->kind == IR_GROUPBY && n->sketch) {
        size_t sz = (size_t)n->naggs * CMS_CELLS * sizeof *a->cms;
        a->cms = arena_alloc(ar, sz);
        memset(a->cms, 0, sz);
    }
}

static void agg_update(const struct ir_node *n, struct entry *e,
                       const struct env *env, struct arena *ar)
{
    for (int i = 0; i < n->naggs; i++) {
        const struct ast_expr *call = n->aggs[i];
        hts_value *v = &e->vals[i];
        if (call->agg == AGG_COUNT) {
            v->u.i++;
            continue;
        }
        hts_value x = eval(call->args[0], env);
        if (!x.present)
            continue; /* aggregates skip absent inputs */
        exec_agg_step(call->agg, v, e->aux[i]++, &x);
    }
}

/* min and max take ints and addresses only (sema), so no string is kept and
 * nothing needs copying out of the packet. */
void exec_agg_step(enum ast_agg agg, hts_value *v, int64_t seen,
                   const hts_value *x)
{
    switch (agg) {
    case AGG_SUM:
    case AGG_AVG:
        v->u.i = (int64_t)((uint64_t)v->u.i + (uint64_t)x->u.i);
        break;
    case AGG_MIN:
        if (!seen || hts_value_cmp(x, v) < 0)
            *v = *x;
        break;
    case AGG_MAX:
        if (!seen || hts_value_cmp(x, v) > 0)
            *v = *x;
        break;
    case AGG_APPROX_DISTINCT: /* v holds the registers (exec_agg_init) */
        hll_add((uint8_t *)v->u.s.p, x);
        break;
    default:
        break;
    }
}

hts_value exec_agg_init(enum ast_agg agg, enum hts_type t, struct arena *ar)
{
    hts_value v = hts_int(0);
    v.type = (uint8_t)t;
    if (agg == AGG_APPROX_DISTINCT) { /* the sketch's registers, as bytes */
        uint8_t *regs = arena_alloc(ar, HLL_M);
        memset(regs, 0, HLL_M);
        v.type = TY_STR;
        v.u.s.p = regs;
        v.u.s.n = HLL_M;
    }
    return v;
}

static void fold_run(struct acc *a, struct ast_stmt **body, int n,
                     struct entry *e, const struct env *env);

static void fold_emit(struct acc *a, struct entry *e)
{
    const struct ir_node *n = a->n;
    hts_value *row = arena_alloc(a->ar, (size_t)n->ncols * sizeof *row);
    memcpy(row, e->key, (size_t)n->nkeys * sizeof *row);
    memcpy(row + n->nkeys, e->vals, (size_t)n->naggs * sizeof *row);
    rows_push(a->ar, &a->emitted, row);
}

static void fold_run(struct acc *a, struct ast_stmt **body, int n,
                     struct entry *e, const struct env *env)
{
    for (int i = 0; i < n; i++) {
        const struct ast_stmt *s = body[i];
        switch (s->kind) {
        case S_ASSIGN:
            /* evaluate, then store: "x = x + 1" reads the old x */
            e->vals[s->ref] = own(a->ar, eval(s->expr, env));
            break;
        case S_IF:
            if (eval_true(s->expr, env))
                fold_run(a, (struct ast_stmt **)s->then_.v, s->then_.n, e, env);
            else
                fold_run(a, (struct ast_stmt **)s->else_.v, s->else_.n, e, env);
            break;
        case S_EMIT:
            fold_emit(a, e);
            break;
        }
    }
}

/* The entry of key in a's table, created with initial values if new. */
static struct entry *acc_entry(struct acc *a, const hts_value *key)
{
    const struct ir_node *n = a->n;
    bool created;
    struct entry *e = table_get(&a->tab, a->ar, key, n->nkeys, &created,
                                a->max_keys);
    if (!e) {
        a->st->table_full++;
        return NULL;
    }
    if (created && n->naggs) {
        e->vals = arena_alloc(a->ar, (size_t)n->naggs * sizeof *e->vals);
        e->aux = arena_alloc(a->ar, (size_t)n->naggs * sizeof *e->aux);
        for (int i = 0; i < n->naggs; i++) {
            if (n->kind == IR_FOLD) {
                struct env none = {0};
                e->vals[i] = own(a->ar, eval(n->aggs[i], &none));
            } else {
                e->vals[i] = exec_agg_init(n->aggs[i]->agg, n->cols[n->nkeys + i].type,
                                           a->ar);
            }
        }
    }
    return e;
}

/* A sketch groupby's tuple: its value into each aggregate's counters;
 * the key is kept (as a key of a's table, with no values) once its
 * estimate in this part of the traffic reaches threshold / parts. A key
 * whose total over all parts reaches the threshold reaches that share in
 * at least one part, and an estimate is never below the exact value: no
 * heavy key is missed. The table holds at most parts x total / threshold
 * keys (plus the sketch's over-estimates). */
static void sketch_add(struct acc *a, const hts_value *key, const struct env *in)
{
    const struct ir_node *n = a->n;
    uint32_t cells[CMS_D];
    cms_cells(key_hash(key, n->nkeys), cells);
    for (int k = 0; k < n->naggs; k++) {
        int64_t v = 1;
        if (n->aggs[k]->agg == AGG_APPROX_SUM) {
            hts_value x = eval(n->aggs[k]->args[0], in);
            if (!x.present || x.u.i <= 0)
                continue; /* absent inputs skipped; negative ones count 0 */
            v = x.u.i;
        }
        int64_t *c = a->cms + (size_t)k * CMS_CELLS;
        for (int d = 0; d < CMS_D; d++)
            c[cells[d]] = (int64_t)((uint64_t)c[cells[d]] + (uint64_t)v);
    }
    int64_t est = cms_estimate(a->cms + (size_t)n->sketch_agg * CMS_CELLS, cells);
    if (est >= (n->sketch_min - 1) / a->parts + 1) /* est >= ceil(min / parts) */
        (void)acc_entry(a, key); /* a full table is counted there */
}

static void acc_add(struct acc *a, const struct env *in)
{
    const struct ir_node *n = a->n;
    if (n->kind == IR_HISTOGRAM) {
        hts_value v = eval(n->expr, in);
        if (!v.present) {
            a->st->absent_keys++;
            return;
        }
        int b = 0;
        while (b < n->nedges && v.u.i >= n->edges[b])
            b++;
        a->hist[b]++;
        return;
    }
    hts_value key[IR_MAX_KEYS];
    for (int i = 0; i < n->nkeys; i++) {
        key[i] = eval(n->exprs[i], in);
        if (!key[i].present) {
            a->st->absent_keys++;
            return;
        }
    }
    if (a->cms) {
        sketch_add(a, key, in);
        return;
    }
    struct entry *e = acc_entry(a, key);
    if (!e)
        return;
    if (n->kind == IR_GROUPBY) {
        agg_update(n, e, in, a->ar);
    } else if (n->kind == IR_FOLD) {
        struct env env = *in;
        env.state = e->vals;
        fold_run(a, n->body, n->nbody, e, &env);
    }
}

static int entry_cmp(const void *pa, const void *pb, void *nkeys)
{
    const struct entry *a = *(struct entry *const *)pa, *b = *(struct entry *const *)pb;
    for (int i = 0; i < *(int *)nkeys; i++) {
        int c = hts_value_cmp(&a->key[i], &b->key[i]);
        if (c)
            return c;
    }
    return 0;
}

static void acc_finish(struct acc *a, struct rowlist *out)
{
    const struct ir_node *n = a->n;
    out->ncols = n->ncols;
    if (n->kind == IR_HISTOGRAM) {
        for (int b = 0; b <= n->nedges; b++) {
            if (!a->hist[b])
                continue;
            hts_value *row = arena_alloc(a->ar, 3 * sizeof *row);
            row[0] = hts_int(b ? n->edges[b - 1] : 0);
            row[1] = b < n->nedges ? hts_int(n->edges[b]) : hts_absent(TY_INT);
            row[2] = hts_int(a->hist[b]);
            rows_push(a->ar, out, row);
        }
        return;
    }
    if (n->kind == IR_FOLD && n->nclose) {
        /* the close block, per key, in a deterministic (key) order */
        size_t m = 0;
        struct entry **es = xmalloc((a->tab.n + 1) * sizeof *es);
        for (size_t i = 0; i < a->tab.cap; i++)
            if (a->tab.slots[i])
                es[m++] = a->tab.slots[i];
        int nk = n->nkeys;
        qsort_r(es, m, sizeof *es, entry_cmp, &nk);
        for (size_t i = 0; i < m; i++) {
            struct env env = {.state = es[i]->vals};
            fold_run(a, n->close, n->nclose, es[i], &env);
        }
        free(es);
    }
    if (n->kind == IR_FOLD && n->emits) {
        *out = a->emitted;
        out->ncols = n->ncols;
        table_free(&a->tab);
        return;
    }
    for (size_t i = 0; i < a->tab.cap; i++) {
        struct entry *e = a->tab.slots[i];
        if (!e)
            continue;
        hts_value *row = arena_alloc(a->ar, (size_t)(n->ncols ? n->ncols : 1) * sizeof *row);
        memcpy(row, e->key, (size_t)n->nkeys * sizeof *row);
        uint32_t cells[CMS_D];
        if (a->cms)
            cms_cells(e->hash, cells);
        for (int k = 0; k < n->naggs; k++) {
            hts_value v = e->vals[k];
            if (a->cms) { /* the estimate from the (merged) sketch */
                row[n->nkeys + k] = hts_int(cms_estimate(a->cms + (size_t)k * CMS_CELLS,
                                                         cells));
                continue;
            }
            if (n->kind == IR_GROUPBY && n->aggs[k]->agg != AGG_COUNT) {
                if (e->aux[k] == 0)
                    v = hts_absent(n->cols[n->nkeys + k].type);
                else if (n->aggs[k]->agg == AGG_AVG)
                    v = hts_int(v.u.i / e->aux[k]);
                else if (n->aggs[k]->agg == AGG_APPROX_DISTINCT)
                    v = hts_int(hll_estimate(v.u.s.p));
            }
            row[n->nkeys + k] = v;
        }
        rows_push(a->ar, out, row);
    }
    table_free(&a->tab);
}

/* Partial state, for merging several workers' accumulators (exec_merge).
 * Row shapes: groupby: keys, then each aggregate's running value, then each
 * aggregate's count of present inputs; distinct: keys; histogram: bucket
 * index and count. A sketch groupby (approx_count/approx_sum) sends the
 * keys it keeps in the same shape (values 0), then its non-zero counters:
 * keys absent, each aggregate's counter, the cell's index as the count. A
 * fold's state depends on arrival order: not mergeable. */
int exec_partial_ncols(const struct ir_node *n)
{
    switch (n->kind) {
    case IR_GROUPBY: return n->nkeys + 2 * n->naggs;
    case IR_DISTINCT: return n->nkeys;
    case IR_HISTOGRAM: return 2;
    default: return n->ncols; /* rows kept for a join: the rows themselves */
    }
}

static void acc_partial(struct acc *a, exec_partial_fn fn, void *ctx, int query,
                        int64_t ws)
{
    const struct ir_node *n = a->n;
    int nc = exec_partial_ncols(n);
    hts_value row[IR_MAX_KEYS + 2 * IR_MAX_AGGS + 2];
    if (n->kind == IR_HISTOGRAM) {
        for (int b = 0; b <= n->nedges; b++)
            if (a->hist[b]) {
                row[0] = hts_int(b);
                row[1] = hts_int(a->hist[b]);
                fn(ctx, query, n->id, ws, row, 2);
            }
        return;
    }
    for (size_t i = 0; i < a->tab.cap; i++) {
        struct entry *e = a->tab.slots[i];
        if (!e)
            continue;
        memcpy(row, e->key, (size_t)n->nkeys * sizeof *row);
        for (int k = 0; n->kind == IR_GROUPBY && k < n->naggs; k++) {
            row[n->nkeys + k] = a->cms ? hts_int(0) : e->vals[k];
            row[n->nkeys + n->naggs + k] = hts_int(a->cms ? 0 : e->aux[k]);
        }
        fn(ctx, query, n->id, ws, row, nc);
    }
    if (!a->cms)
        return;
    /* A sketch's counters, the non-zero cells only: keys absent, each
     * aggregate's counter, and the cell's index in every count column. */
    for (int k = 0; k < n->nkeys; k++)
        row[k] = hts_absent(n->cols[k].type);
    for (uint32_t cell = 0; cell < CMS_CELLS; cell++) {
        bool any = false;
        for (int k = 0; k < n->naggs; k++) {
            int64_t c = a->cms[(size_t)k * CMS_CELLS + cell];
            any |= c != 0;
            row[n->nkeys + k] = hts_int(c);
            row[n->nkeys + n->naggs + k] = hts_int(cell);
        }
        if (any)
            fn(ctx, query, n->id, ws, row, nc);
    }
}

static void acc_merge(struct acc *a, const hts_value *row)
{
    const struct ir_node *n = a->n;
    if (n->kind == IR_HISTOGRAM) {
        if (row[0].u.i >= 0 && row[0].u.i <= n->nedges)
            a->hist[row[0].u.i] += row[1].u.i;
        return;
    }
    if (a->cms) { /* a sketch's cell (keys absent), or a key it keeps */
        if (n->nkeys && row[0].present) {
            (void)acc_entry(a, row);
            return;
        }
        for (int k = 0; k < n->naggs; k++) {
            int64_t cell = row[n->nkeys + n->naggs + k].u.i;
            if (cell >= 0 && cell < CMS_CELLS)
                a->cms[(size_t)k * CMS_CELLS + cell] = (int64_t)(
                    (uint64_t)a->cms[(size_t)k * CMS_CELLS + cell] +
                    (uint64_t)row[n->nkeys + k].u.i);
        }
        return;
    }
    struct entry *e = acc_entry(a, row);
    if (!e)
        return;
    for (int k = 0; n->kind == IR_GROUPBY && k < n->naggs; k++) {
        const hts_value *v = &row[n->nkeys + k];
        int64_t seen = row[n->nkeys + n->naggs + k].u.i;
        switch (n->aggs[k]->agg) {
        case AGG_COUNT:
            e->vals[k].u.i += v->u.i;
            break;
        case AGG_SUM:
        case AGG_AVG:
            e->vals[k].u.i = (int64_t)((uint64_t)e->vals[k].u.i + (uint64_t)v->u.i);
            break;
        case AGG_MIN:
            if (seen && (!e->aux[k] || hts_value_cmp(v, &e->vals[k]) < 0))
                e->vals[k] = own(a->ar, *v);
            break;
        case AGG_MAX:
            if (seen && (!e->aux[k] || hts_value_cmp(v, &e->vals[k]) > 0))
                e->vals[k] = own(a->ar, *v);
            break;
        case AGG_APPROX_DISTINCT: /* registers: the larger of each */
            if (seen && v->type == TY_STR && v->u.s.n == HLL_M)
                hll_merge((uint8_t *)e->vals[k].u.s.p, v->u.s.p);
            break;
        default:
            break;
        }
        e->aux[k] += seen;
    }
}

/* ---- queries and windows ---- */

struct winst {
    int64_t start, end;
    struct arena ar;
    struct acc *acc;          /* per node id (stateful frontier nodes) */
    struct rowlist *buf;      /* per node id (streaming rows kept for a join) */
    struct rowlist *done;     /* per node id: batch results, memoised */
    struct rowlist *extra;    /* per node id: rows a data plane computed */
    struct rowlist *part;     /* per node id: partial state to merge into a
                               * groupby computed at close (exec_merge) */
    bool *have;
    exec_window_fn ext;       /* set: the window's rows come from it */
    void *ext_ctx;
};

struct xquery {
    const struct ir_query *q;
    bool *streaming; /* per node: no stateful node upstream */
    bool *frontier;  /* per node: stateful with a streaming input */
    bool *buffered;  /* per node: streaming and feeding a join */
    /* per-packet scratch of the streaming region */
    bool *active;
    hts_value **rows;
    struct winst **open; /* sorted by start */
    int nopen, capopen;
    bool keep; /* a partial executor closes this query's windows itself
                * (exec_set_partial_query) */
};

struct exec {
    const struct ir_program *p;
    struct xquery *qs;
    exec_row_fn fn;
    void *ctx;
    struct exec_stats st;
    struct exec_stats *sp;   /* &st, or in a version its first executor's */
    size_t max_keys;         /* per table and window; 0: unbounded */
    int sketch_parts;        /* exec_set_sketch_parts */
    exec_partial_fn partial; /* set: windows hand over partial state */
    void *partial_ctx;
    int64_t watermark;    /* the latest packet time seen: windows ending at
                           * or before it are closed */
    bool by_watermark;    /* only exec_advance moves event time */
    uint64_t *late_q;     /* per query: packets or rows that came late */
    struct arena scratch; /* per-packet rows of the streaming region */
    /* Versions (exec_add_version): the first executor lists the later ones,
     * oldest first, through `ver`; each runs query ver_query from ver_from
     * on, with the program it was given. */
    struct exec *ver;
    int ver_query;
    int64_t ver_from;
    bool is_version;
};

/* The executor that runs query's records of time t: the latest version of
 * that query from t or before, else x itself. */
static struct exec *version_for(struct exec *x, int query, int64_t t)
{
    struct exec *r = x;
    for (struct exec *v = x->ver; v; v = v->ver)
        if (v->ver_query == query && t >= v->ver_from)
            r = v;
    return r;
}

uint32_t exec_sample_hash(uint64_t ts_ns)
{
    /* CRC-32 (IEEE 802.3, reflected, as P4's HashAlgorithm.crc32) of the
     * timestamp's 8 bytes, most significant first */
    uint32_t crc = 0xffffffffu;
    for (int i = 7; i >= 0; i--) {
        crc ^= (uint8_t)(ts_ns >> (8 * i));
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

struct exec *exec_new(const struct ir_program *p, exec_row_fn fn, void *ctx)
{
    struct exec *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->p = p;
    x->fn = fn;
    x->ctx = ctx;
    x->sp = &x->st;
    x->qs = calloc((size_t)p->nqueries + 1, sizeof *x->qs);
    x->late_q = calloc((size_t)p->nqueries + 1, sizeof *x->late_q);
    if (!x->qs || !x->late_q) {
        free(x->qs);
        free(x->late_q);
        free(x);
        return NULL;
    }
    for (int i = 0; i < p->nqueries; i++) {
        struct xquery *xq = &x->qs[i];
        const struct ir_query *q = p->queries[i];
        int nn = q->nnodes;
        xq->q = q;
        assert(nn > 0 && q->nodes[0]->kind == IR_SOURCE); /* sema builds it first */
        xq->streaming = xmalloc((size_t)nn * sizeof(bool));
        xq->frontier = xmalloc((size_t)nn * sizeof(bool));
        xq->buffered = xmalloc((size_t)nn * sizeof(bool));
        xq->active = xmalloc((size_t)nn * sizeof(bool));
        xq->rows = calloc((size_t)nn, sizeof *xq->rows);
        for (int k = 0; k < nn; k++) {
            const struct ir_node *n = q->nodes[k];
            bool up = true;
            for (int j = 0; j < n->nin; j++)
                up &= xq->streaming[n->in[j]->id];
            xq->streaming[k] = up && !ir_kind_stateful(n->kind);
            xq->frontier[k] = ir_kind_stateful(n->kind) && n->kind != IR_JOIN &&
                              xq->streaming[n->in[0]->id];
            xq->buffered[k] = false;
        }
        for (int k = 0; k < nn; k++) {
            const struct ir_node *n = q->nodes[k];
            if (n->kind == IR_JOIN)
                for (int j = 0; j < 2; j++)
                    if (xq->streaming[n->in[j]->id])
                        xq->buffered[n->in[j]->id] = true;
        }
    }
    return x;
}

/* Runs the streaming region on one packet from node `start` on: which
 * nodes pass it, and the tuple each tuple-producing node makes of it. From
 * the source for a captured packet; from a later node for what a data plane
 * reported (the nodes before `start` ran there). */
static void stream_from(struct exec *x, struct xquery *xq,
                        const struct hts_pkt *pkt, int start,
                        const hts_value *row)
{
    const struct ir_query *q = xq->q;
    memset(xq->active, 0, (size_t)q->nnodes * sizeof *xq->active);
    xq->active[start] = true;
    xq->rows[start] = (hts_value *)row;
    for (int k = start + 1; k < q->nnodes; k++) {
        const struct ir_node *n = q->nodes[k];
        if (!xq->streaming[k] || n->kind == IR_SOURCE)
            continue;
        int in = n->in[0]->id;
        if (!xq->active[in])
            continue;
        struct env env = {.pkt = pkt, .row = xq->rows[in]};
        switch (n->kind) {
        case IR_FILTER:
            xq->active[k] = eval_true(n->expr, &env);
            xq->rows[k] = xq->rows[in];
            break;
        case IR_SAMPLE:
            xq->active[k] = exec_sample_hash(pkt->f[FLD_META_TS].u) %
                                (uint64_t)n->sample_n == 0;
            break;
        case IR_MAP:
        case IR_EXPORT: {
            hts_value *r = arena_alloc(&x->scratch, (size_t)(n->ncols ? n->ncols : 1) * sizeof *r);
            for (int c = 0; c < n->ncols; c++)
                r[c] = eval(n->exprs[c], &env);
            xq->rows[k] = r;
            xq->active[k] = true;
            break;
        }
        default:
            break;
        }
    }
}

/* The per-node arrays of window w (a window made by exec_window_external
 * has none until something else needs them). */
static struct winst *window_arrays(struct xquery *xq, struct winst *w)
{
    int nn = xq->q->nnodes;
    if (w->acc)
        return w;
    w->acc = arena_alloc(&w->ar, (size_t)nn * sizeof *w->acc);
    w->buf = arena_alloc(&w->ar, (size_t)nn * sizeof *w->buf);
    w->done = arena_alloc(&w->ar, (size_t)nn * sizeof *w->done);
    w->have = arena_alloc(&w->ar, (size_t)nn * sizeof *w->have);
    w->extra = arena_alloc(&w->ar, (size_t)nn * sizeof *w->extra);
    w->part = arena_alloc(&w->ar, (size_t)nn * sizeof *w->part);
    return w;
}

static struct winst *window_find(struct xquery *xq, int64_t start, bool bare)
{
    int i = 0;
    for (; i < xq->nopen; i++) {
        if (xq->open[i]->start == start)
            return bare ? xq->open[i] : window_arrays(xq, xq->open[i]);
        if (xq->open[i]->start > start)
            break;
    }
    if (xq->nopen == xq->capopen) {
        xq->capopen = xq->capopen ? xq->capopen * 2 : 4;
        xq->open = realloc(xq->open, (size_t)xq->capopen * sizeof *xq->open);
        if (!xq->open) {
            fprintf(stderr, "htsc: out of memory\n");
            exit(2);
        }
    }
    memmove(&xq->open[i + 1], &xq->open[i], (size_t)(xq->nopen - i) * sizeof *xq->open);
    struct winst *w = calloc(1, sizeof *w);
    if (!w) {
        fprintf(stderr, "htsc: out of memory\n");
        exit(2);
    }
    w->start = start;
    w->end = start + xq->q->window_ns;
    xq->open[i] = w;
    xq->nopen++;
    return bare ? w : window_arrays(xq, w);
}

static struct winst *window_get(struct xquery *xq, int64_t start)
{
    return window_find(xq, start, false);
}

/* Feeds the streaming region's output for this packet into window w. */
static void window_add(struct exec *x, struct xquery *xq, struct winst *w,
                       const struct hts_pkt *pkt)
{
    const struct ir_query *q = xq->q;
    for (int k = 0; k < q->nnodes; k++) {
        const struct ir_node *n = q->nodes[k];
        if (xq->frontier[k]) {
            int in = n->in[0]->id;
            if (!xq->active[in])
                continue;
            if (!w->acc[k].n)
                acc_init(&w->acc[k], n, &w->ar, x->sp, x->max_keys, x->sketch_parts);
            struct env env = {.pkt = pkt, .row = xq->rows[in]};
            acc_add(&w->acc[k], &env);
        } else if (xq->buffered[k] && xq->active[k]) {
            w->buf[k].ncols = n->ncols;
            rows_push(&w->ar, &w->buf[k], row_copy(&w->ar, xq->rows[k], n->ncols));
        }
    }
}

static const struct rowlist *batch(struct exec *x, struct xquery *xq,
                                   struct winst *w, const struct ir_node *n);

/* A join key's hash: hts_value_hash's job, quicker for the types keys
 * mostly have. Only used within one join, so it need only agree with
 * hts_value_eq (equal values hash alike): for ints, bools and IPv4
 * addresses that compares the type and the number alone. */
static uint64_t join_hash(const hts_value *k, int n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < n; i++) {
        uint64_t v;
        switch ((enum hts_type)k[i].type) {
        case TY_BOOL: case TY_INT:
            v = (uint64_t)k[i].u.i;
            break;
        case TY_IPV4:
            v = k[i].u.ip4;
            break;
        default:
            v = hts_value_hash(&k[i], 0);
            break;
        }
        h = (h ^ k[i].type) * 0x100000001b3ULL;
        h = (h ^ v) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    return h;
}

static void join_rows(struct winst *w, const struct ir_node *n,
                      const struct rowlist *l, const struct rowlist *r,
                      struct rowlist *out)
{
    /* Hash the right side's rows on their keys, probe with the left. A
     * row with an absent key matches nothing (absent equals no present
     * value, and left rows with one do not probe), so it is left out. The
     * rows of one key are chained in their order: inserted last to first,
     * each at the head. The index holds row numbers, nothing is copied. */
    out->ncols = n->ncols;
    int njk = n->njk;
    size_t cap = 16;
    while (cap < 2 * (size_t)r->n)
        cap <<= 1;
    size_t mask = cap - 1;
    int32_t *slot = xmalloc(cap * sizeof *slot);
    int32_t *next = xmalloc((size_t)(r->n ? r->n : 1) * sizeof *next);
    uint64_t *hash = xmalloc((size_t)(r->n ? r->n : 1) * sizeof *hash);
    memset(slot, 0xff, cap * sizeof *slot); /* -1: empty */
    hts_value key[IR_MAX_KEYS];
    for (int i = r->n - 1; i >= 0; i--) {
        const hts_value *rr = r->v[i];
        bool absent = false;
        for (int k = 0; k < njk; k++) {
            key[k] = rr[n->rkeys[k]];
            absent |= !key[k].present;
        }
        if (absent)
            continue;
        uint64_t h = join_hash(key, njk);
        hash[i] = h;
        size_t j = h & mask;
        for (; slot[j] >= 0; j = (j + 1) & mask) {
            const hts_value *o = r->v[slot[j]];
            bool eq = hash[slot[j]] == h;
            for (int k = 0; eq && k < njk; k++)
                eq = hts_value_eq(&o[n->rkeys[k]], &key[k]);
            if (eq)
                break;
        }
        next[i] = slot[j]; /* -1 for a new key */
        slot[j] = i;
    }
    for (int i = 0; i < l->n; i++) {
        const hts_value *lr = l->v[i];
        bool absent = false;
        for (int k = 0; k < njk; k++) {
            key[k] = lr[n->lkeys[k]];
            absent |= !key[k].present;
        }
        int32_t m = -1;
        if (!absent && r->n) {
            uint64_t h = join_hash(key, njk);
            for (size_t j = h & mask; slot[j] >= 0; j = (j + 1) & mask) {
                const hts_value *o = r->v[slot[j]];
                bool eq = hash[slot[j]] == h;
                for (int k = 0; eq && k < njk; k++)
                    eq = hts_value_eq(&o[n->rkeys[k]], &key[k]);
                if (eq) {
                    m = slot[j];
                    break;
                }
            }
        }
        if (m < 0 && !n->left_join)
            continue;
        do {
            hts_value *row = arena_alloc(&w->ar, (size_t)n->ncols * sizeof *row);
            for (int c = 0; c < n->ncols; c++) {
                if (n->jside[c] == 0)
                    row[c] = lr[n->jcol[c]];
                else if (m >= 0)
                    row[c] = r->v[m][n->jcol[c]];
                else
                    row[c] = hts_absent(n->cols[c].type);
            }
            rows_push(&w->ar, out, row);
        } while (m >= 0 && (m = next[m]) >= 0);
    }
    free(slot);
    free(next);
    free(hash);
}

/* The rows node n produces in window w (computed once per window). */
static const struct rowlist *batch(struct exec *x, struct xquery *xq,
                                   struct winst *w, const struct ir_node *n)
{
    int k = n->id;
    if (w->have[k])
        return &w->done[k];
    struct rowlist *out = &w->done[k];
    out->ncols = n->ncols;
    if (xq->frontier[k]) {
        if (w->acc[k].n)
            acc_finish(&w->acc[k], out);
    } else if (xq->buffered[k]) {
        *out = w->buf[k];
        out->ncols = n->ncols;
    } else if (n->kind == IR_JOIN) {
        join_rows(w, n, batch(x, xq, w, n->in[0]), batch(x, xq, w, n->in[1]), out);
    } else {
        const struct rowlist *in = batch(x, xq, w, n->in[0]);
        if (ir_kind_stateful(n->kind)) {
            struct acc a;
            acc_init(&a, n, &w->ar, x->sp, x->max_keys, x->sketch_parts);
            for (int i = 0; i < in->n; i++) {
                struct env env = {.row = in->v[i]};
                acc_add(&a, &env);
            }
            for (int i = 0; i < w->part[k].n; i++) /* a data plane's slots */
                acc_merge(&a, w->part[k].v[i]);
            acc_finish(&a, out);
        } else {
            for (int i = 0; i < in->n; i++) {
                struct env env = {.row = in->v[i]};
                if (n->kind == IR_FILTER) {
                    if (eval_true(n->expr, &env))
                        rows_push(&w->ar, out, in->v[i]);
                } else { /* map */
                    hts_value *row = arena_alloc(&w->ar, (size_t)(n->ncols ? n->ncols : 1) * sizeof *row);
                    for (int c = 0; c < n->ncols; c++)
                        row[c] = own(&w->ar, eval(n->exprs[c], &env));
                    rows_push(&w->ar, out, row);
                }
            }
        }
    }
    for (int i = 0; i < w->extra[k].n; i++) /* the data plane's share */
        rows_push(&w->ar, out, w->extra[k].v[i]);
    w->have[k] = true;
    return out;
}

static int row_cmp(const void *pa, const void *pb, void *ncols)
{
    const hts_value *a = *(hts_value *const *)pa, *b = *(hts_value *const *)pb;
    for (int i = 0; i < *(int *)ncols; i++) {
        int c = hts_value_cmp(&a[i], &b[i]);
        if (c)
            return c;
    }
    return 0;
}

/* Rows in row_cmp's order, fast: each row's first column as an
 * order-preserving 64-bit prefix (absent lowest; integers with the sign bit
 * flipped; addresses, MACs and strings by their first bytes, big-endian),
 * sorted by LSD radix (11-bit digits, passes whose digit never varies
 * skipped), then runs of equal prefixes by row_cmp. Equal rows are equal
 * in every column, so the result is qsort's with row_cmp, in far less time
 * for the window of a million keys. */
struct keyed {
    uint64_t k;
    hts_value *row;
};

static uint64_t sort_prefix(const hts_value *v)
{
    if (!v->present)
        return 0;
    uint64_t k = 0;
    switch ((enum hts_type)v->type) {
    case TY_BOOL:
    case TY_INT: return (uint64_t)v->u.i ^ (UINT64_C(1) << 63);
    case TY_IPV4: return v->u.ip4;
    case TY_PREFIX4: return (uint64_t)v->u.ip4 << 8 | v->plen;
    case TY_IPV6:
    case TY_PREFIX6:
        for (int i = 0; i < 8; i++)
            k = k << 8 | v->u.ip6[i];
        return k;
    case TY_MAC:
        for (int i = 0; i < 6; i++)
            k = k << 8 | v->u.mac[i];
        return k << 16;
    case TY_STR:
        for (uint32_t i = 0; i < 8; i++)
            k = k << 8 | (i < v->u.s.n ? v->u.s.p[i] : 0);
        return k;
    default: return 0; /* row_cmp decides */
    }
}

static void sort_rows(hts_value **rows, size_t n, int ncols)
{
    if (n < 64 || ncols < 1) {
        qsort_r(rows, n, sizeof *rows, row_cmp, &ncols);
        return;
    }
    struct keyed *a = xmalloc(n * sizeof *a), *b = xmalloc(n * sizeof *b);
    uint64_t all_or = 0, all_and = ~UINT64_C(0);
    for (size_t i = 0; i < n; i++) {
        a[i] = (struct keyed){sort_prefix(rows[i]), rows[i]};
        all_or |= a[i].k;
        all_and &= a[i].k;
    }
    uint64_t varies = all_or ^ all_and;
    size_t count[2048]; /* per call: workers sort at once */
    for (int shift = 0; shift < 64; shift += 11) {
        if (!((varies >> shift) & 0x7ff))
            continue;
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[(a[i].k >> shift) & 0x7ff]++;
        size_t sum = 0;
        for (int d = 0; d < 2048; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            b[count[(a[i].k >> shift) & 0x7ff]++] = a[i];
        struct keyed *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++)
        rows[i] = a[i].row;
    for (size_t i = 0; i < n;) { /* equal prefixes: the full comparison */
        size_t j = i + 1;
        while (j < n && a[j].k == a[i].k)
            j++;
        if (j - i > 1)
            qsort_r(rows + i, j - i, sizeof *rows, row_cmp, &ncols);
        i = j;
    }
    free(a);
    free(b);
}

static void window_close(struct exec *x, struct xquery *xq, struct winst *w)
{
    const struct ir_query *q = xq->q;
    if (w->ext) { /* finished elsewhere (exec_window_external) */
        x->sp->rows += w->ext(w->ext_ctx, q, w->start, w->end);
        x->sp->windows++;
        arena_free(&w->ar);
        free(w);
        return;
    }
    if (x->partial && !xq->keep) { /* a worker: hand the state over, emit nothing */
        for (int k = 0; k < q->nnodes; k++) {
            if (xq->frontier[k] && w->acc[k].n)
                acc_partial(&w->acc[k], x->partial, x->partial_ctx, q->index, w->start);
            for (int i = 0; xq->buffered[k] && i < w->buf[k].n; i++)
                x->partial(x->partial_ctx, q->index, k, w->start, w->buf[k].v[i],
                           q->nodes[k]->ncols);
            for (int i = 0; i < w->part[k].n; i++)
                x->partial(x->partial_ctx, q->index, k, w->start, w->part[k].v[i],
                           w->part[k].ncols);
            table_free(&w->acc[k].tab);
        }
        x->sp->windows++;
        arena_free(&w->ar);
        free(w);
        return;
    }
    const struct rowlist *rows = batch(x, xq, w, q->root);
    hts_value **sorted = xmalloc((size_t)(rows->n + 1) * sizeof *sorted);
    if (rows->n)
        memcpy(sorted, rows->v, (size_t)rows->n * sizeof *sorted);
    sort_rows(sorted, (size_t)rows->n, q->root->ncols);
    /* sorted, the rows are scattered over the arena: fetch ahead (a 1M-key
     * window's hand-over missed the cache on every row) */
    const size_t rowbytes = (size_t)q->root->ncols * sizeof(hts_value);
    for (int i = 0; i < rows->n; i++) {
        if (i + 8 < rows->n) {
            __builtin_prefetch(sorted[i + 8]);
            if (rowbytes > 64)
                __builtin_prefetch((const char *)sorted[i + 8] + 64);
        }
        x->sp->rows++;
        x->fn(x->ctx, q, w->start, w->end, sorted[i], q->root->ncols);
    }
    free(sorted);
    for (int k = 0; k < q->nnodes; k++)
        table_free(&w->acc[k].tab);
    x->sp->windows++;
    arena_free(&w->ar);
    free(w);
}

/* Closes, in order of end time then query, every window that ends at or
 * before `now` (INT64_MAX: all of them). */
static void close_until(struct exec *x, int64_t now)
{
    for (;;) {
        struct xquery *best = NULL;
        for (int i = 0; i < x->p->nqueries; i++) {
            struct xquery *xq = &x->qs[i];
            if (xq->nopen && xq->open[0]->end <= now &&
                (!best || xq->open[0]->end < best->open[0]->end))
                best = xq;
        }
        if (!best)
            return;
        struct winst *w = best->open[0];
        memmove(&best->open[0], &best->open[1], (size_t)(best->nopen - 1) * sizeof *best->open);
        best->nopen--;
        window_close(x, best, w);
    }
}

/* The oldest window [s, s+W), s a multiple of H, that holds ts. */
static int64_t first_window(int64_t ts, int64_t W, int64_t H)
{
    int64_t s = ts - ts % H;
    while (s - H > ts - W && s - H >= 0)
        s -= H;
    return s;
}

/* Advances event time to ts, closing what ends at or before it. */
static void advance(struct exec *x, int64_t ts)
{
    if (ts > x->watermark)
        x->watermark = ts;
    close_until(x, ts);
}

/* After stream_from(): emits per-packet rows, or adds to every window that
 * holds ts. */
static void route(struct exec *x, struct xquery *xq,
                  const struct hts_pkt *pkt, int64_t ts)
{
    const struct ir_query *q = xq->q;
    int64_t W = q->window_ns, H = q->hop_ns;
    if (q->per_packet) {
        if (!xq->active[q->root->id])
            return;
        const hts_value *row = xq->rows[q->root->id];
        if (!W) {
            x->sp->rows++;
            x->fn(x->ctx, q, ts, ts, row, q->root->ncols);
            return;
        }
        for (int64_t s = first_window(ts, W, H); s <= ts; s += H) {
            x->sp->rows++;
            x->fn(x->ctx, q, s, s + W, row, q->root->ncols);
        }
        return;
    }
    bool late = false;
    for (int64_t s = first_window(ts, W, H); s <= ts; s += H) {
        if (s + W <= x->watermark) {
            late = true;
            continue;
        }
        window_add(x, xq, window_get(xq, s), pkt);
    }
    x->sp->late += late;
    x->late_q[q->index] += late;
}

bool exec_late_for(const struct ir_query *q, int64_t ts, int64_t watermark)
{
    if (q->per_packet || !q->window_ns)
        return false;
    return first_window(ts, q->window_ns, q->hop_ns) + q->window_ns <= watermark;
}

void exec_packet(struct exec *x, const struct hts_pkt *pkt)
{
    int64_t ts = (int64_t)pkt->f[FLD_META_TS].u;
    x->sp->packets++;
    advance(x, ts);
    for (int i = 0; i < x->p->nqueries; i++) {
        struct xquery *xq = &x->qs[i];
        stream_from(x, xq, pkt, 0, NULL);
        route(x, xq, pkt, ts);
    }
    arena_reset(&x->scratch);
}

static void advance_all(struct exec *x, int64_t ts);

void exec_feed(struct exec *x, int query, int node, const struct hts_pkt *pkt,
               const hts_value *row, int64_t ts)
{
    if (__builtin_expect(x->ver != NULL, 0)) {
        if (!x->by_watermark)
            advance_all(x, ts);
        x = version_for(x, query, ts);
    }
    struct xquery *xq = &x->qs[query];
    assert(query >= 0 && query < x->p->nqueries);
    assert(node >= 0 && node < xq->q->nnodes && xq->streaming[node]);
    x->sp->packets++;
    if (!x->by_watermark)
        advance(x, ts);
    stream_from(x, xq, pkt, node, row);
    route(x, xq, pkt, ts);
    arena_reset(&x->scratch);
}

void exec_feed_rows(struct exec *x, int query, int node, int64_t window_start,
                    const hts_value *row)
{
    if (__builtin_expect(x->ver != NULL, 0))
        x = version_for(x, query, window_start);
    struct xquery *xq = &x->qs[query];
    const struct ir_query *q = xq->q;
    assert(query >= 0 && query < x->p->nqueries);
    assert(node >= 0 && node < q->nnodes && !xq->streaming[node]);
    if (window_start + q->window_ns <= x->watermark) {
        x->sp->late++;
        x->late_q[query]++;
        return;
    }
    struct winst *w = window_get(xq, window_start);
    w->extra[node].ncols = q->nodes[node]->ncols;
    rows_push(&w->ar, &w->extra[node], row_copy(&w->ar, row, q->nodes[node]->ncols));
}

void exec_set_max_keys(struct exec *x, size_t max_keys)
{
    x->max_keys = max_keys;
}

void exec_set_sketch_parts(struct exec *x, int parts)
{
    x->sketch_parts = parts;
}

void exec_set_partial(struct exec *x, exec_partial_fn fn, void *ctx)
{
    x->partial = fn;
    x->partial_ctx = ctx;
}

void exec_set_partial_query(struct exec *x, int query, bool hand_over)
{
    assert(query >= 0 && query < x->p->nqueries);
    x->qs[query].keep = !hand_over;
}

bool exec_is_partial(const struct exec *x)
{
    return x->partial != NULL;
}

bool exec_mergeable(const struct exec *x, char *why, size_t len)
{
    for (int i = 0; i < x->p->nqueries; i++) {
        const struct xquery *xq = &x->qs[i];
        for (int k = 0; k < xq->q->nnodes; k++)
            if (xq->frontier[k] && xq->q->nodes[k]->kind == IR_FOLD) {
                snprintf(why, len, "query '%s' folds per packet in arrival "
                         "order (fold at %d:%d): its state cannot be split "
                         "across workers", xq->q->name,
                         xq->q->nodes[k]->loc.line, xq->q->nodes[k]->loc.col);
                return false;
            }
    }
    return true;
}

void exec_merge(struct exec *x, int query, int node, int64_t window_start,
                const hts_value *row)
{
    if (__builtin_expect(x->ver != NULL, 0))
        x = version_for(x, query, window_start);
    struct xquery *xq = &x->qs[query];
    const struct ir_node *n = xq->q->nodes[node];
    assert(query >= 0 && query < x->p->nqueries);
    if (window_start + xq->q->window_ns <= x->watermark) {
        x->sp->late++;
        x->late_q[query]++;
        return;
    }
    struct winst *w = window_get(xq, window_start);
    if (xq->frontier[node]) {
        if (!w->acc[node].n)
            acc_init(&w->acc[node], n, &w->ar, x->sp, x->max_keys, x->sketch_parts);
        acc_merge(&w->acc[node], row);
    } else if (xq->buffered[node]) {
        w->buf[node].ncols = n->ncols;
        rows_push(&w->ar, &w->buf[node], row_copy(&w->ar, row, n->ncols));
    } else if (n->kind == IR_GROUPBY) { /* merged when batch() computes it */
        int nc = exec_partial_ncols(n);
        w->part[node].ncols = nc;
        rows_push(&w->ar, &w->part[node], row_copy(&w->ar, row, nc));
    }
}

void exec_fold_state(struct exec *x, int query, int node, int64_t window_start,
                     const hts_value *row)
{
    if (__builtin_expect(x->ver != NULL, 0))
        x = version_for(x, query, window_start);
    struct xquery *xq = &x->qs[query];
    const struct ir_node *n = xq->q->nodes[node];
    assert(query >= 0 && query < x->p->nqueries && xq->frontier[node] && n->kind == IR_FOLD);
    if (window_start + xq->q->window_ns <= x->watermark) {
        x->sp->late++;
        x->late_q[query]++;
        return;
    }
    struct winst *w = window_get(xq, window_start);
    if (!w->acc[node].n)
        acc_init(&w->acc[node], n, &w->ar, x->sp, x->max_keys, x->sketch_parts);
    struct entry *e = acc_entry(&w->acc[node], row);
    for (int i = 0; e && i < n->naggs; i++)
        e->vals[i] = own(&w->ar, row[n->nkeys + i]);
}

bool exec_window_external(struct exec *x, int query, int64_t window_start,
                          exec_window_fn emit, void *ctx)
{
    if (__builtin_expect(x->ver != NULL, 0))
        x = version_for(x, query, window_start);
    struct xquery *xq = &x->qs[query];
    assert(query >= 0 && query < x->p->nqueries);
    if (window_start + xq->q->window_ns <= x->watermark) {
        x->sp->late++;
        x->late_q[query]++;
        return false;
    }
    struct winst *w = window_find(xq, window_start, true);
    w->ext = emit;
    w->ext_ctx = ctx;
    return true;
}

void exec_time_by_watermark(struct exec *x, bool on)
{
    x->by_watermark = on;
}

/* Event time to ts in x and its versions, oldest first: a window of the
 * old version closes before the new version's windows that end with it. */
static void advance_all(struct exec *x, int64_t ts)
{
    for (; x; x = x->ver)
        advance(x, ts);
}

void exec_advance(struct exec *x, int64_t ts)
{
    advance_all(x, ts);
}

int64_t exec_watermark(const struct exec *x)
{
    return x->watermark;
}

uint64_t exec_state_keys(const struct exec *x)
{
    uint64_t n = 0;
    if (x->ver)
        n += exec_state_keys(x->ver);
    for (int i = 0; i < x->p->nqueries; i++) {
        const struct xquery *xq = &x->qs[i];
        for (int w = 0; w < xq->nopen; w++)
            for (int k = 0; xq->open[w]->acc && k < xq->q->nnodes; k++)
                n += xq->open[w]->acc[k].tab.n;
    }
    return n;
}

void exec_finish(struct exec *x)
{
    for (; x; x = x->ver)
        close_until(x, INT64_MAX);
}

int exec_add_version(struct exec *x, const struct ir_program *p, int query, int64_t from,
                     char *err, size_t errlen)
{
    if (x->is_version || query < 0 || query >= x->p->nqueries ||
        p->nqueries != x->p->nqueries) {
        snprintf(err, errlen, "not a version of this executor's program");
        return -EINVAL;
    }
    const struct ir_query *q = p->queries[query], *o = x->p->queries[query];
    if (q->nnodes != o->nnodes || q->window_ns != o->window_ns || q->hop_ns != o->hop_ns ||
        q->per_packet != o->per_packet) {
        snprintf(err, errlen, "query '%s': the new version's operators or window differ",
                 o->name);
        return -EINVAL;
    }
    if (q->window_ns && ((q->hop_ns && q->hop_ns != q->window_ns) || from % q->window_ns)) {
        snprintf(err, errlen, "query '%s': a new version starts at a window of a tumbling "
                 "window, not at %lld", o->name, (long long)from);
        return -EINVAL;
    }
    struct exec **tail = &x->ver;
    for (; *tail; tail = &(*tail)->ver)
        if ((*tail)->ver_query == query && (*tail)->ver_from >= from) {
            snprintf(err, errlen, "query '%s': a version from %lld exists already",
                     o->name, (long long)(*tail)->ver_from);
            return -EINVAL;
        }
    struct exec *y = exec_new(p, x->fn, x->ctx);
    if (!y) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    y->is_version = true;
    y->sp = x->sp;
    free(y->late_q);
    y->late_q = x->late_q;
    y->max_keys = x->max_keys;
    y->sketch_parts = x->sketch_parts;
    y->partial = x->partial;
    y->partial_ctx = x->partial_ctx;
    y->by_watermark = x->by_watermark;
    y->watermark = x->watermark;
    for (int i = 0; i < p->nqueries; i++)
        y->qs[i].keep = x->qs[i].keep;
    y->ver_query = query;
    y->ver_from = from;
    *tail = y;
    return 0;
}

uint64_t exec_late(const struct exec *x, int query)
{
    return x->late_q[query];
}

const struct exec_stats *exec_stats(const struct exec *x)
{
    return x->sp;
}

void exec_free(struct exec *x)
{
    if (!x)
        return;
    exec_free(x->ver);
    for (int i = 0; i < x->p->nqueries; i++) {
        struct xquery *xq = &x->qs[i];
        for (int w = 0; w < xq->nopen; w++) {
            for (int k = 0; xq->open[w]->acc && k < xq->q->nnodes; k++)
                table_free(&xq->open[w]->acc[k].tab);
            arena_free(&xq->open[w]->ar);
            free(xq->open[w]);
        }
        free(xq->open);
        free(xq->streaming);
        free(xq->frontier);
        free(xq->buffered);
        free(xq->active);
        free(xq->rows);
    }
    free(x->qs);
    if (!x->is_version)
        free(x->late_q);
    arena_free(&x->scratch);
    free(x);
}
