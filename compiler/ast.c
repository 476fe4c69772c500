/*
 * ast.c - the AST builders the grammar calls (parse.c drives the grammar).
 *
 * Builders only allocate and link; every judgement about meaning belongs to
 * sema.c. Structural rules that the grammar cannot say cheaply (duplicate
 * query names within a file are sema's; a query without a body is the
 * grammar's) are left where they read best.
 */
#include "ast.h"

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

void ast_set_network_wide(struct parse_ctx *c, struct loc l)
{
    c->q->network_wide = true;
    c->q->network_loc = l;
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
