/*
 * split.c - the plan-time rewrite that splits filters mixing data-plane and
 * host-only conditions (see plan.h, plan_split_filters, and
 * docs/partitioning.md, "Splitting filters").
 *
 *   filter udp.sport == 53 and dns.ancount >= 1
 *     ->  filter udp.sport == 53         (the target's parser can test it)
 *         | filter dns.ancount >= 1      (only the host decodes DNS)
 *
 * Why it is exact. A filter keeps a tuple only when its condition is true
 * (unknown drops it, docs/semantics.md), and `a and b` is true exactly when
 * a and b both are (SQL's three-valued `and`), so filter(a and b) keeps what
 * filter(a) | filter(b) keeps. Conditions have no side effects (absent
 * values, never errors), so order and repetition do not matter. A
 * disjunction is not split; when every branch of one implies a data-plane
 * condition, that condition is tested first (`(a1 and h1) or (a2 and h2)`:
 * the data plane keeps `a1 or a2`, the host then tests the whole
 * disjunction): if the disjunction is true, some branch is, so its a_i is
 * and so is `a1 or a2`; keeping a tuple needs the disjunction true either
 * way.
 *
 * Why at plan time and not in sema. What a data plane can test depends on
 * the target (none tests nothing, a target that does not know frame lengths
 * cannot test meta.wire_len), the reference executor should run the query
 * as written (it is the definition), and `htsc explain` should show it as
 * written. Both sides of a plan build the rewritten program: the compiler
 * before training and planning, the plan loader after rebuilding the
 * program from the sources; the rewrite depends only on the program and
 * the target, so they agree on node ids by construction (and the loader
 * checks the node list anyway).
 */
#include "plan.h"

#include "fields.h"
#include "targets.h"

#include <string.h>

bool plan_expr_reads_frame_len(const struct ast_expr *e)
{
    if (!e)
        return false;
    if (e->kind == E_NAME && e->ref_kind == REF_FIELD &&
        (e->ref == FLD_META_WIRE_LEN || e->ref == FLD_META_CAP_LEN))
        return true;
    if (plan_expr_reads_frame_len(e->a) || plan_expr_reads_frame_len(e->b))
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (plan_expr_reads_frame_len(e->args[i]))
            return true;
    return false;
}

/* Whether target t's data plane can evaluate e on a packet. */
static bool dp_on(const struct ast_expr *e, const struct p4g_target *t)
{
    const char *why;
    return plan_expr_dp(e, &why) && (t->frame_len || !plan_expr_reads_frame_len(e));
}

static struct ast_expr *bool_op(struct arena *a, enum ast_op op, struct ast_expr *x,
                                struct ast_expr *y)
{
    struct ast_expr *e = arena_alloc(a, sizeof *e);
    e->kind = E_BINARY;
    e->op = op;
    e->loc = x->loc;
    e->a = x;
    e->b = y;
    e->depth = (x->depth > y->depth ? x->depth : y->depth) + 1;
    e->type = TY_BOOL;
    e->ref_kind = REF_NONE;
    e->agg = AGG_NONE;
    e->fn = -1;
    return e;
}

/* x and y, where either may be NULL (nothing) */
static struct ast_expr *and_of(struct arena *a, struct ast_expr *x, struct ast_expr *y)
{
    return !x ? y : !y ? x : bool_op(a, OP_AND, x, y);
}

/* A data-plane condition that is true whenever e is, or NULL. */
static struct ast_expr *implied(struct arena *a, struct ast_expr *e,
                                const struct p4g_target *t)
{
    if (dp_on(e, t))
        return e;
    if (e->kind != E_BINARY)
        return NULL;
    if (e->op == OP_AND) /* a and b true: both are */
        return and_of(a, implied(a, e->a, t), implied(a, e->b, t));
    if (e->op == OP_OR) { /* a or b true: one of them is */
        struct ast_expr *x = implied(a, e->a, t), *y = x ? implied(a, e->b, t) : NULL;
        return x && y ? bool_op(a, OP_OR, x, y) : NULL;
    }
    return NULL;
}

struct parts {
    struct ast_expr *dp;   /* for the data plane: NULL if none */
    struct ast_expr *host; /* for the host: NULL if none */
};

/* Splits conjunction e (its top-level `and`s flattened, left to right). */
static void split_conj(struct arena *a, struct ast_expr *e, const struct p4g_target *t,
                       struct parts *p)
{
    if (e->kind == E_BINARY && e->op == OP_AND) {
        split_conj(a, e->a, t, p);
        split_conj(a, e->b, t, p);
        return;
    }
    if (dp_on(e, t)) {
        p->dp = and_of(a, p->dp, e);
        return;
    }
    p->dp = and_of(a, p->dp, implied(a, e, t));
    p->host = and_of(a, p->host, e);
}

/* The two conditions filter n splits into on t, or false to keep it. */
static bool split_node(struct arena *a, const struct ir_node *n, const struct p4g_target *t,
                       struct parts *p)
{
    memset(p, 0, sizeof *p);
    if (n->kind != IR_FILTER || !n->packet || !t->extract || dp_on(n->expr, t))
        return false;
    split_conj(a, n->expr, t, p);
    if (p->dp && p->host)
        return true;
    memset(p, 0, sizeof *p);
    return false;
}

static struct ir_node *copy_node(struct arena *a, const struct ir_node *n)
{
    struct ir_node *c = arena_alloc(a, sizeof *c);
    *c = *n;
    return c;
}

static const struct ir_query *split_query(struct arena *a, const struct ir_query *q,
                                          const struct p4g_target *t)
{
    int nn = q->nnodes, extra = 0;
    struct parts *parts = arena_alloc(a, (size_t)(nn + 1) * sizeof *parts);
    for (int k = 0; k < nn; k++)
        extra += split_node(a, q->nodes[k], t, &parts[k]);
    if (!extra)
        return q;
    struct ir_query *c = arena_alloc(a, sizeof *c);
    *c = *q;
    c->nodes = arena_alloc(a, (size_t)(nn + extra) * sizeof *c->nodes);
    c->nnodes = 0;
    struct ir_node **map = arena_alloc(a, (size_t)nn * sizeof *map); /* old id -> copy */
    for (int k = 0; k < nn; k++) {
        const struct ir_node *n = q->nodes[k];
        struct ir_node *in0 = n->nin > 0 ? map[n->in[0]->id] : NULL;
        if (parts[k].dp) {
            struct ir_node *d = copy_node(a, n); /* the data-plane half */
            d->id = c->nnodes;
            d->in[0] = in0;
            d->expr = parts[k].dp;
            d->label = NULL; /* the sub-query ends at the host half */
            c->nodes[c->nnodes++] = d;
            in0 = d;
        }
        struct ir_node *m = copy_node(a, n);
        m->id = c->nnodes;
        m->in[0] = in0;
        if (n->nin > 1)
            m->in[1] = map[n->in[1]->id];
        if (parts[k].host)
            m->expr = parts[k].host;
        c->nodes[c->nnodes++] = m;
        map[k] = m;
    }
    c->root = map[q->root->id];
    return c;
}

const struct ir_program *plan_split_filters(struct arena *a, const struct ir_program *prog,
                                            const struct p4g_target *t)
{
    struct ir_program *c = arena_alloc(a, sizeof *c);
    *c = *prog;
    c->queries = arena_alloc(a, (size_t)(prog->nqueries + 1) * sizeof *c->queries);
    for (int i = 0; i < prog->nqueries; i++)
        c->queries[i] = (struct ir_query *)split_query(a, prog->queries[i], t);
    c->split_for = t->name;
    return c;
}
