/*
 * ast.c - the arena, the AST builders the grammar calls, and ast_parse().
 *
 * Builders only allocate and link; every judgement about meaning belongs to
 * sema.c. Structural rules that the grammar cannot say cheaply (duplicate
 * query names within a file are sema's; a query without a body is the
 * grammar's) are left where they read best.
 */
#include "ast.h"

#include "parser.h"
#include "lexer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ast_op_text[OP__COUNT] = {
#define X(id, text) [OP_##id] = text,
    HTS_OPS(X)
#undef X
};

const char *const ast_agg_text[AGG__COUNT] = {
#define X(id, text) [AGG_##id] = text,
    HTS_AGGS(X)
#undef X
};

const char *const ast_opkind_text[K__COUNT] = {
#define X(id, text) [K_##id] = text,
    HTS_OPKINDS(X)
#undef X
};

/* ---- arena ---- */

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof *b + cap);
        if (!b) {
            fprintf(stderr, "htsc: out of memory\n");
            exit(2);
        }
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void arena_free(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

void arena_reset(struct arena *a)
{
    struct arena_block *b = a->head;
    if (!b)
        return;
    while (b->next) { /* keep the last (first allocated) block */
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
}

/* ---- builders ---- */

void ast_list_push(struct parse_ctx *c, struct ast_list *l, void *x)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 4;
        void **v = arena_alloc(c->arena, (size_t)cap * sizeof *v);
        if (l->n)
            memcpy(v, l->v, (size_t)l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
}

static struct ast_expr *new_expr(struct parse_ctx *c, enum expr_kind k,
                                 struct loc l)
{
    struct ast_expr *e = arena_alloc(c->arena, sizeof *e);
    e->kind = k;
    e->loc = l;
    e->agg = AGG_NONE;
    e->fn = -1;
    return e;
}

struct ast_expr *ast_lit(struct parse_ctx *c, struct loc l, hts_value v)
{
    struct ast_expr *e = new_expr(c, E_LIT, l);
    e->lit = v;
    e->type = (enum hts_type)v.type;
    return e;
}

struct ast_expr *ast_name(struct parse_ctx *c, struct loc l, const char *name)
{
    struct ast_expr *e = new_expr(c, E_NAME, l);
    e->name = name;
    return e;
}

/* Sets e's depth from its children; past the limit, reports once and cuts
 * the tree (the query is rejected anyway) so later passes stay shallow. */
static struct ast_expr *deepen(struct parse_ctx *c, struct ast_expr *e)
{
    int d = 0;
    if (e->a && e->a->depth > d)
        d = e->a->depth;
    if (e->b && e->b->depth > d)
        d = e->b->depth;
    e->depth = d + 1;
    if (e->depth > AST_MAX_DEPTH) {
        if (!c->too_deep)
            diag_error(c->diag, e->loc, "expression nested too deeply (more than %d "
                       "levels)", AST_MAX_DEPTH);
        c->too_deep = true;
        return e->a ? e->a : e;
    }
    return e;
}

struct ast_expr *ast_unary(struct parse_ctx *c, struct loc l, enum ast_op op,
                           struct ast_expr *a)
{
    struct ast_expr *e = new_expr(c, E_UNARY, l);
    e->op = op;
    e->a = a;
    return deepen(c, e);
}

struct ast_expr *ast_binary(struct parse_ctx *c, struct loc l, enum ast_op op,
                            struct ast_expr *a, struct ast_expr *b)
{
    struct ast_expr *e = new_expr(c, E_BINARY, l);
    e->op = op;
    e->a = a;
    e->b = b;
    return deepen(c, e);
}

struct ast_expr *ast_call(struct parse_ctx *c, struct loc l, const char *name,
                          struct ast_list *args)
{
    struct ast_expr *e = new_expr(c, E_CALL, l);
    e->name = name;
    e->args = (struct ast_expr **)args->v;
    e->nargs = args->n;
    return e;
}

struct ast_expr *ast_set(struct parse_ctx *c, struct loc l,
                         struct ast_list *elems)
{
    struct ast_expr *e = new_expr(c, E_SET, l);
    e->args = (struct ast_expr **)elems->v;
    e->nargs = elems->n;
    e->type = TY_SET;
    return e;
}

struct ast_expr *ast_range(struct parse_ctx *c, struct loc l,
                           struct ast_expr *lo, struct ast_expr *hi)
{
    struct ast_expr *e = new_expr(c, E_RANGE, l);
    e->a = lo;
    e->b = hi;
    return deepen(c, e);
}

struct ast_item *ast_item(struct parse_ctx *c, struct loc l, const char *name,
                          struct ast_expr *e)
{
    struct ast_item *it = arena_alloc(c->arena, sizeof *it);
    it->name = name;
    it->expr = e;
    it->loc = l;
    return it;
}

struct ast_stmt *ast_assign(struct parse_ctx *c, struct loc l,
                            const char *name, struct ast_expr *e)
{
    struct ast_stmt *s = arena_alloc(c->arena, sizeof *s);
    s->kind = S_ASSIGN;
    s->loc = l;
    s->name = name;
    s->expr = e;
    return s;
}

struct ast_stmt *ast_if(struct parse_ctx *c, struct loc l,
                        struct ast_expr *cond, struct ast_list *then_,
                        struct ast_list *else_)
{
    struct ast_stmt *s = arena_alloc(c->arena, sizeof *s);
    s->kind = S_IF;
    s->loc = l;
    s->expr = cond;
    s->then_ = *then_;
    if (else_)
        s->else_ = *else_;
    return s;
}

struct ast_stmt *ast_emit(struct parse_ctx *c, struct loc l)
{
    struct ast_stmt *s = arena_alloc(c->arena, sizeof *s);
    s->kind = S_EMIT;
    s->loc = l;
    return s;
}

struct ast_opnode *ast_op(struct parse_ctx *c, struct loc l, enum op_kind k)
{
    struct ast_opnode *o = arena_alloc(c->arena, sizeof *o);
    o->kind = k;
    o->loc = l;
    return o;
}

struct ast_source *ast_src_packets(struct parse_ctx *c, struct loc l)
{
    struct ast_source *s = arena_alloc(c->arena, sizeof *s);
    s->kind = SRC_PACKETS;
    s->loc = l;
    return s;
}

struct ast_source *ast_src_name(struct parse_ctx *c, struct loc l,
                                const char *name)
{
    struct ast_source *s = arena_alloc(c->arena, sizeof *s);
    s->kind = SRC_NAME;
    s->loc = l;
    s->name = name;
    return s;
}

struct ast_source *ast_src_join(struct parse_ctx *c, struct loc l,
                                struct ast_source *left, bool left_join,
                                struct ast_source *right,
                                struct ast_list *keys)
{
    struct ast_source *s = arena_alloc(c->arena, sizeof *s);
    s->kind = SRC_JOIN;
    s->loc = l;
    s->left = left;
    s->right = right;
    s->left_join = left_join;
    s->keys = *keys;
    return s;
}

struct ast_pipeline *ast_pipeline(struct parse_ctx *c, struct ast_source *s)
{
    struct ast_pipeline *p = arena_alloc(c->arena, sizeof *p);
    p->src = s;
    return p;
}

void ast_begin_query(struct parse_ctx *c, struct loc l, const char *name)
{
    struct ast_query *q = arena_alloc(c->arena, sizeof *q);
    q->name = name;
    q->loc = l;
    c->q = q;
}

void ast_add_param(struct parse_ctx *c, struct loc l, const char *name,
                   struct ast_expr *value)
{
    ast_list_push(c, &c->q->params, ast_item(c, l, name, value));
}

void ast_set_window(struct parse_ctx *c, struct ast_expr *size,
                    struct ast_expr *every)
{
    c->q->window = size;
    c->q->every = every;
}

void ast_set_refine(struct parse_ctx *c, struct ast_expr *key,
                    struct ast_list *levels)
{
    c->q->refine = key;
    c->q->levels = *levels;
}

void ast_add_binding(struct parse_ctx *c, struct loc l, const char *name,
                     struct ast_pipeline *p)
{
    struct ast_binding *b = arena_alloc(c->arena, sizeof *b);
    b->name = name;
    b->loc = l;
    b->pipe = p;
    ast_list_push(c, &c->q->bindings, b);
}

void ast_end_query(struct parse_ctx *c, struct ast_pipeline *result)
{
    c->q->result = result;
    ast_list_push(c, &c->file->queries, c->q);
    c->q = NULL;
}

/* ---- entry points ---- */

int ast_parse(struct arena *arena, struct diag *d, const struct src_file *src,
              struct ast_file **out)
{
    struct parse_ctx c = {.arena = arena, .diag = d, .src = src, .line = 1,
                          .col = 1};
    int before = d->errors;
    c.file = arena_alloc(arena, sizeof *c.file);
    c.file->src = src;
    if (yylex_init_extra(&c, &c.scanner)) {
        diag_error(d, (struct loc){0}, "cannot start the lexer");
        return -ENOMEM;
    }
    YY_BUFFER_STATE buf = yy_scan_bytes(src->text, (int)src->len, c.scanner);
    yyparse(&c);
    yy_delete_buffer(buf, c.scanner);
    yylex_destroy(c.scanner);
    if (c.file->queries.n == 0 && d->errors == before)
        diag_error(d, (struct loc){src, 1, 1}, "no query in file");
    *out = c.file;
    return d->errors > before ? -EINVAL : 0;
}

int ast_parse_literal(const char *text, hts_value *out, struct arena *arena,
                      char *err, size_t errlen)
{
    /* Lex the text as a one-parameter query; the grammar's constant
     * expressions (a negative number, a duration) are then folded by sema. */
    struct diag d;
    diag_init(&d);
    size_t n = strlen(text);
    char *q = arena_alloc(arena, n + 64);
    snprintf(q, n + 64, "query q(v = %s) { packets }", text);
    struct src_file *src = src_from_string("--set", q, strlen(q));
    struct ast_file *f = NULL;
    int rc = ast_parse(arena, &d, src, &f);
    if (rc == 0 && f->queries.n == 1) {
        struct ast_query *aq = f->queries.v[0];
        struct ast_item *it = aq->params.n == 1 ? aq->params.v[0] : NULL;
        struct ast_expr *e = it ? it->expr : NULL;
        bool neg = e && e->kind == E_UNARY && e->op == OP_NEG &&
                   e->a->kind == E_LIT && e->a->lit.type == TY_INT;
        if (e && (e->kind == E_LIT || neg)) {
            /* a string's bytes live in the arena, as the caller expects */
            *out = neg ? hts_int(-e->a->lit.u.i) : e->lit;
            diag_free(&d);
            src_free(src);
            return 0;
        }
    }
    snprintf(err, errlen, "'%s' is not a literal", text);
    diag_free(&d);
    src_free(src);
    return -EINVAL;
}
