/*
 * jit_plan.c - which queries the JIT covers, and the layouts it compiles to.
 *
 * A query is covered when everything that runs per packet can be compiled:
 * its streaming region (source, filter, sample, map, export) and the first
 * stateful node(s) fed by it (groupby, distinct, histogram, fold). What
 * comes after those nodes (filters on aggregates, joins, a second
 * groupby...) runs at window close in the executor, on rows the JIT's tables
 * hand over, so it needs no compiled form; except that a groupby or distinct
 * fed by an emitting fold through filters and maps is compiled too
 * (plan_chain: it would see a row per packet), and that the filters and
 * maps after a tumbling window's one table are compiled into the function
 * that finishes its rows (plan_direct). A query with anything the
 * generator cannot express falls back whole to the interpreter, with the
 * reason recorded for logs (jit_report): there is no half-compiled query.
 *
 * The check is deliberately a list of what IS supported (fields, types,
 * operators): a field or operator added to the language later falls back
 * until someone teaches jit_gen.c about it.
 */
#include "jit_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The fields jit_gen.c decodes itself. The others (tunnels: vxlan, gre,
 * inner.*; DNS; payload) need the whole decoder: compiled code calls the
 * interpreter's, once per packet, for packets that need one. */
bool jit_field_native(int f)
{
    switch ((enum hts_field)f) {
    case FLD_META_TS: case FLD_META_WIRE_LEN: case FLD_META_CAP_LEN:
    case FLD_META_PORT:
    case FLD_ETH_SRC: case FLD_ETH_DST: case FLD_ETH_TYPE:
    case FLD_VLAN_ID: case FLD_VLAN_PCP: case FLD_VLAN_INNER_ID:
    case FLD_VLAN_DEPTH: case FLD_MPLS_LABEL: case FLD_MPLS_DEPTH:
    case FLD_IPV4_IHL: case FLD_IPV4_TOS: case FLD_IPV4_LEN: case FLD_IPV4_ID:
    case FLD_IPV4_FLAGS: case FLD_IPV4_FRAG_OFF: case FLD_IPV4_TTL:
    case FLD_IPV4_PROTO: case FLD_IPV4_SRC: case FLD_IPV4_DST:
    case FLD_IPV6_TC: case FLD_IPV6_FLOW: case FLD_IPV6_PLEN:
    case FLD_IPV6_NEXT: case FLD_IPV6_HLIM: case FLD_IPV6_SRC:
    case FLD_IPV6_DST: case FLD_IPV6_FRAG: case FLD_IP_PROTO:
    case FLD_TCP_SPORT: case FLD_TCP_DPORT: case FLD_TCP_SEQ: case FLD_TCP_ACK:
    case FLD_TCP_HDR_LEN: case FLD_TCP_FLAGS: case FLD_TCP_WINDOW:
    case FLD_TCP_PAYLOAD_LEN:
    case FLD_UDP_SPORT: case FLD_UDP_DPORT: case FLD_UDP_LEN:
    case FLD_ICMP_TYPE: case FLD_ICMP_CODE: case FLD_ICMPV6_TYPE:
    case FLD_ICMPV6_CODE:
        return true;
    default:
        return false;
    }
}

/* A key may also be a string field short enough to copy into a table
 * (dns.qname, at most 255 bytes on the wire and 253 as text). */
static bool key_ok(const struct ir_node *n, int k)
{
    const struct ast_expr *e = n->exprs[k];
    if (n->cols[k].type != TY_STR)
        return true;
    return e->kind == E_NAME && e->ref_kind == REF_FIELD &&
           hts_fields[e->ref].width <= 8 * JIT_STR_RESERVE;
}

static bool type_ok(enum hts_type t)
{
    return t == TY_INT || t == TY_BOOL || t == TY_IPV4 || t == TY_IPV6 ||
           t == TY_MAC;
}

int jit_type_words(enum hts_type t)
{
    return t == TY_IPV6 ? 2 : 1;
}

/* The encoding jit_gen.c writes: ints as two's complement, IPv4 in the low
 * 32 bits, a MAC as a 48-bit big-endian number, IPv6 as a 128-bit
 * big-endian number, high word first. */
hts_value jit_words_value(enum hts_type t, const uint64_t *w)
{
    hts_value v;
    memset(&v, 0, sizeof v);
    v.type = (uint8_t)t;
    v.present = 1;
    switch (t) {
    case TY_IPV4:
        v.u.ip4 = (uint32_t)w[0];
        break;
    case TY_MAC:
        for (int i = 0; i < 6; i++)
            v.u.mac[i] = (uint8_t)(w[0] >> (8 * (5 - i)));
        break;
    case TY_IPV6:
        for (int i = 0; i < 8; i++) {
            v.u.ip6[i] = (uint8_t)(w[0] >> (8 * (7 - i)));
            v.u.ip6[8 + i] = (uint8_t)(w[1] >> (8 * (7 - i)));
        }
        break;
    default:
        v.u.i = (int64_t)w[0];
        break;
    }
    return v;
}

struct chk {
    struct jit_plan *pl;
    struct jit_qplan *qp;
    bool fold; /* checking a fold's body: state variables are allowed */
    const struct ir_query *qp_q;
    bool need[FLD__COUNT]; /* decoded by compiled code */
    bool slow[FLD__COUNT]; /* read from the interpreter's decoder */
};

__attribute__((format(printf, 2, 3))) static bool no(struct chk *c,
                                                     const char *fmt, ...)
{
    if (!c->qp->covered)
        return false; /* keep the first reason */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->qp->why, sizeof c->qp->why, fmt, ap);
    va_end(ap);
    c->qp->covered = false;
    return false;
}

static bool has_name(const struct ast_expr *e)
{
    if (!e)
        return false;
    if (e->kind == E_NAME)
        return true;
    if (has_name(e->a) || has_name(e->b))
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (has_name(e->args[i]))
            return true;
    return false;
}

static const char *where(const struct ast_expr *e, char *buf, size_t n)
{
    snprintf(buf, n, "%d:%d", e->loc.line, e->loc.col);
    return buf;
}

static bool expr_ok(struct chk *c, const struct ast_expr *e)
{
    char at[32];
    switch (e->kind) {
    case E_LIT:
        if (!type_ok((enum hts_type)e->lit.type) && e->lit.type != TY_STR)
            return no(c, "a %s constant at %s (strings and sets stay in the "
                      "interpreter)", hts_type_name((enum hts_type)e->lit.type),
                      where(e, at, sizeof at));
        return true;
    case E_NAME:
        if (e->ref_kind == REF_FIELD) {
            if (jit_field_native(e->ref))
                c->need[e->ref] = true;
            else
                c->slow[e->ref] = true;
            return true;
        }
        if (e->ref_kind == REF_COL)
            return type_ok(e->type) ||
                   no(c, "a %s column at %s", hts_type_name(e->type),
                      where(e, at, sizeof at));
        if (e->ref_kind == REF_STATE && c->fold)
            return type_ok(e->type) ||
                   no(c, "a %s state variable at %s", hts_type_name(e->type),
                      where(e, at, sizeof at));
        return no(c, "name %s at %s", e->name, where(e, at, sizeof at));
    case E_UNARY:
        return expr_ok(c, e->a);
    case E_BINARY:
        switch (e->op) {
        case OP_IN: {
            if (!expr_ok(c, e->a))
                return false;
            const struct ast_expr *b = e->b;
            if (b->kind == E_RANGE)
                return expr_ok(c, b->a) && expr_ok(c, b->b);
            if (b->kind == E_SET) {
                for (int i = 0; i < b->nargs; i++) {
                    if (has_name(b->args[i]))
                        return no(c, "a set element that is not a constant "
                                  "at %s", where(b->args[i], at, sizeof at));
                    hts_value v = exec_eval(b->args[i], NULL, NULL);
                    if (!type_ok((enum hts_type)v.type) && v.type != TY_STR &&
                        v.type != TY_PREFIX4 && v.type != TY_PREFIX6)
                        return no(c, "a %s set element at %s",
                                  hts_type_name((enum hts_type)v.type),
                                  where(b->args[i], at, sizeof at));
                }
                return true;
            }
            if (has_name(b))
                return no(c, "a prefix that is not a constant at %s",
                          where(b, at, sizeof at));
            return true;
        }
        default:
            return expr_ok(c, e->a) && expr_ok(c, e->b);
        }
    case E_CALL:
        if (e->agg != AGG_NONE) /* only as a groupby's aggregate */
            return no(c, "an aggregate outside a groupby at %s",
                      where(e, at, sizeof at));
        if (e->fn == FN_HASH && !type_ok(e->args[0]->type))
            return no(c, "hash() of a %s at %s", hts_type_name(e->args[0]->type),
                      where(e, at, sizeof at));
        for (int i = 0; i < e->nargs; i++)
            if (!expr_ok(c, e->args[i]))
                return false;
        return true;
    default:
        return no(c, "a set or range outside 'in' at %s",
                  where(e, at, sizeof at));
    }
}

/* A fold's statements; counts its emits (each runs at most once per packet). */
static bool stmts_ok(struct chk *c, struct ast_stmt **v, int n, int *nemit)
{
    for (int i = 0; i < n; i++) {
        const struct ast_stmt *st = v[i];
        switch (st->kind) {
        case S_EMIT:
            (*nemit)++;
            break;
        case S_ASSIGN:
            if (!expr_ok(c, st->expr))
                return false;
            break;
        case S_IF:
            if (!expr_ok(c, st->expr) ||
                !stmts_ok(c, (struct ast_stmt **)st->then_.v, st->then_.n, nemit) ||
                !stmts_ok(c, (struct ast_stmt **)st->else_.v, st->else_.n, nemit))
                return false;
            break;
        }
    }
    return true;
}

/* Whether an order-sensitive operator (a fold) reads what node k makes: the
 * compiled fold hands its rows over in first-seen order, the executor's in
 * its table's order, which only a fold downstream could tell apart. */
static bool fold_downstream(const struct ir_query *q, int k)
{
    bool reach[1024] = {false};
    if (q->nnodes > 1024)
        return true;
    reach[k] = true;
    for (int m = k + 1; m < q->nnodes; m++) {
        const struct ir_node *n = q->nodes[m];
        for (int j = 0; j < n->nin; j++)
            reach[m] |= reach[n->in[j]->id];
        if (reach[m] && n->kind == IR_FOLD)
            return true;
    }
    return false;
}

/* Expressions evaluated per packet at node n (its input is streaming). */
static bool node_ok(struct chk *c, const struct ir_node *n)
{
    char at[32];
    snprintf(at, sizeof at, "%d:%d", n->loc.line, n->loc.col);
    switch (n->kind) {
    case IR_SOURCE:
    case IR_SAMPLE:
        return true;
    case IR_FILTER:
        return expr_ok(c, n->expr);
    case IR_MAP:
    case IR_EXPORT:
        for (int i = 0; i < n->nexprs; i++)
            if (!expr_ok(c, n->exprs[i]))
                return false;
        for (int i = 0; i < n->ncols; i++)
            if (!type_ok(n->cols[i].type))
                return no(c, "column %s of %s at %s is %s", n->cols[i].name,
                          ir_kind_text[n->kind], at,
                          hts_type_name(n->cols[i].type));
        return true;
    case IR_GROUPBY:
    case IR_DISTINCT:
        for (int i = 0; i < n->nkeys; i++) {
            if (!type_ok(n->cols[i].type) && !key_ok(n, i))
                return no(c, "key %s of %s at %s is %s", n->cols[i].name,
                          ir_kind_text[n->kind], at,
                          hts_type_name(n->cols[i].type));
            if (!expr_ok(c, n->exprs[i]))
                return false;
        }
        for (int i = 0; n->kind == IR_GROUPBY && i < n->naggs; i++) {
            const struct ast_expr *a = n->aggs[i];
            if (a->kind != E_CALL || a->agg == AGG_NONE)
                return no(c, "aggregate %d of groupby at %s", i, at);
            if (a->agg == AGG_APPROX_DISTINCT)
                return no(c, "approx_distinct of groupby at %s (a sketch)", at);
            if (a->agg == AGG_APPROX_COUNT || a->agg == AGG_APPROX_SUM)
                return no(c, "approx_count/approx_sum of groupby at %s (a sketch)", at);
            if (a->agg != AGG_COUNT && !expr_ok(c, a->args[0]))
                return false;
        }
        return true;
    case IR_HISTOGRAM:
        return expr_ok(c, n->expr);
    case IR_FOLD: {
        if (fold_downstream(c->qp_q, n->id))
            return no(c, "fold at %s feeds another fold (row order)", at);
        for (int i = 0; i < n->ncols; i++)
            if (!type_ok(n->cols[i].type) && !(i < n->nkeys && key_ok(n, i)))
                return no(c, "%s %s of fold at %s is %s", i < n->nkeys ? "key" : "state",
                          n->cols[i].name, at, hts_type_name(n->cols[i].type));
        for (int i = 0; i < n->nkeys; i++)
            if (!expr_ok(c, n->exprs[i]))
                return false;
        for (int i = 0; i < n->naggs; i++)
            if (!expr_ok(c, n->aggs[i]))
                return false;
        int nemit = 0;
        c->fold = true;
        bool ok = stmts_ok(c, n->body, n->nbody, &nemit);
        c->fold = false;
        return ok;
    }
    default:
        return no(c, "%s at %s in the per-packet part",
                  ir_kind_text[n->kind], at);
    }
}

static int add_sink(struct jit_plan *pl, const struct ir_query *q,
                    const struct ir_node *node, const struct ir_node *last,
                    enum jit_sink_kind kind)
{
    struct jit_sink *s = realloc(pl->sinks, (size_t)(pl->nsinks + 1) * sizeof *s);
    if (!s)
        return -ENOMEM;
    pl->sinks = s;
    s = &pl->sinks[pl->nsinks];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->q = q;
    s->node = node;
    int len = 0;
    for (const struct ir_node *n = last; n && n->kind != IR_SOURCE; n = n->in[0])
        len++;
    s->path = calloc((size_t)len + 1, sizeof *s->path);
    if (!s->path)
        return -ENOMEM;
    s->npath = len;
    for (const struct ir_node *n = last; n && n->kind != IR_SOURCE; n = n->in[0])
        s->path[--len] = n;
    pl->nsinks++;
    return 0;
}

/* A fold that emits, and whose rows reach a groupby or distinct through
 * filters and maps only (each node with that one consumer): the second
 * table is updated by compiled code at each emit (docs/jit.md). Adds that
 * sink, chained to fold sink f; nothing when the shape or an expression
 * does not allow it (the rows then go to the executor as before). */
/* The one node reading cur's output, when exactly one does and reads only
 * it; else NULL (a branch or a join ends a compiled chain). */
static const struct ir_node *sole_consumer(const struct ir_query *q,
                                           const struct ir_node *cur)
{
    const struct ir_node *next = NULL;
    int uses = 0;
    for (int m = cur->id + 1; m < q->nnodes; m++)
        for (int j = 0; j < q->nodes[m]->nin; j++)
            if (q->nodes[m]->in[j] == cur) {
                next = q->nodes[m];
                uses++;
            }
    return uses == 1 && next->nin == 1 ? next : NULL;
}

static int plan_chain(struct jit_plan *pl, const struct ir_query *q, int f)
{
    const struct ir_node *fold = pl->sinks[f].node, *cur = fold, *path[64];
    int npath = 0;
    if (!fold->emits || fold->nclose) /* close blocks run in the executor */
        return 0;
    for (int c = 0; c < fold->ncols; c++)
        if (!type_ok(fold->cols[c].type))
            return 0;
    for (;;) {
        const struct ir_node *next = sole_consumer(q, cur);
        if (!next)
            return 0;
        if (next->kind == IR_GROUPBY || next->kind == IR_DISTINCT) {
            cur = next;
            break;
        }
        if ((next->kind != IR_FILTER && next->kind != IR_MAP) || npath == 64)
            return 0;
        path[npath++] = cur = next;
    }
    /* the same checks as per packet, on a scratch plan: no field may be
     * read (rows after a fold have none), keys are plain values */
    struct jit_qplan tq = {.covered = true};
    struct chk c = {.pl = pl, .qp = &tq, .qp_q = q};
    for (int i = 0; i < npath && tq.covered; i++)
        node_ok(&c, path[i]);
    if (tq.covered)
        node_ok(&c, cur);
    for (int k = 0; k < cur->nkeys; k++)
        tq.covered &= type_ok(cur->cols[k].type);
    for (int fl = 0; fl < FLD__COUNT; fl++)
        tq.covered &= !c.need[fl] && !c.slow[fl];
    if (!tq.covered)
        return 0;
    int rc = add_sink(pl, q, cur, NULL, cur->kind == IR_GROUPBY ? SINK_GROUPBY : SINK_DISTINCT);
    if (rc < 0)
        return rc;
    struct jit_sink *k = &pl->sinks[pl->nsinks - 1];
    free(k->path);
    k->path = calloc((size_t)npath + 1, sizeof *k->path);
    if (!k->path)
        return -ENOMEM;
    memcpy(k->path, path, (size_t)npath * sizeof *path);
    k->npath = npath;
    k->nslots = pl->sinks[f].nslots;
    k->chained = f + 1;
    pl->sinks[f].chain = pl->nsinks;
    return 0;
}

/* Whether query qi's windows can close in jit.c without the executor (see
 * jit_int.h: direct): its one table is followed, node by single consumer,
 * by filters and maps only up to the root. */
static void plan_direct(struct jit_plan *pl, int qi)
{
    const struct ir_query *q = pl->p->queries[qi];
    struct jit_qplan *qp = &pl->qs[qi];
    const struct jit_sink *k = &pl->sinks[qp->first_sink];
    int t = qp->first_sink;
    if (q->per_packet || k->nslots != 1 || q->hop_ns != q->window_ns)
        return;
    if (qp->nsinks == 2 && k->chain == t + 2)
        t++;
    else if (qp->nsinks != 1)
        return;
    k = &pl->sinks[t];
    /* a fold's emitted rows too (jit.c keeps them for the window's close) */
    bool fold = k->kind == SINK_FOLD && k->node->emits && !k->node->nclose && !k->chain;
    if (k->kind != SINK_GROUPBY && k->kind != SINK_DISTINCT && !fold)
        return;
    const struct ir_node *cur = k->node;
    qp->nrest = 0;
    while (cur != q->root) {
        const struct ir_node *next = sole_consumer(q, cur);
        if (!next || qp->nrest == JIT_MAX_REST ||
            (next->kind != IR_FILTER && next->kind != IR_MAP))
            return;
        qp->rest[qp->nrest++] = cur = next;
    }
    qp->direct = t + 1;
    /* compiled too when every value is a plain one (no strings, no IPv6
     * aggregate: two words of value) and no field is read */
    const struct ir_node *n = k->node;
    struct jit_qplan tq = {.covered = true};
    struct chk c = {.pl = pl, .qp = &tq, .qp_q = q};
    for (int i = 0; i < n->ncols; i++)
        tq.covered &= type_ok(n->cols[i].type) &&
                      (i < n->nkeys || fold || n->cols[i].type != TY_IPV6);
    for (int i = 0; i < qp->nrest && tq.covered; i++)
        node_ok(&c, qp->rest[i]);
    for (int fl = 0; fl < FLD__COUNT; fl++)
        tq.covered &= !c.need[fl] && !c.slow[fl];
    for (int i = 0; i < q->root->ncols; i++)
        tq.covered &= type_ok(q->root->cols[i].type);
    if (!tq.covered || q->root->ncols > JIT_MAX_COLS) {
        qp->direct = 0; /* the executor closes its windows */
        return;
    }
    int o = 1;
    for (int i = 0; i < q->root->ncols; i++) {
        qp->rest_off[i] = o;
        o += jit_type_words(q->root->cols[i].type);
    }
    qp->rest_words = o;
    qp->rest_jit = true;
}

/* Checks query q; on success adds its sinks. */
static int plan_query(struct jit_plan *pl, int qi)
{
    const struct ir_query *q = pl->p->queries[qi];
    struct jit_qplan *qp = &pl->qs[qi];
    struct chk c = {.pl = pl, .qp = qp, .qp_q = q};
    int nn = q->nnodes;
    bool *streaming = calloc((size_t)nn + 1, sizeof *streaming);
    bool *frontier = calloc((size_t)nn + 1, sizeof *frontier);
    if (!streaming || !frontier) {
        free(streaming);
        free(frontier);
        return -ENOMEM;
    }
    qp->covered = true;
    /* the executor's regions (exec.c: exec_new) */
    for (int k = 0; k < nn; k++) {
        const struct ir_node *n = q->nodes[k];
        bool up = true;
        for (int j = 0; j < n->nin; j++)
            up &= streaming[n->in[j]->id];
        streaming[k] = up && !ir_kind_stateful(n->kind);
        frontier[k] = ir_kind_stateful(n->kind) && n->kind != IR_JOIN &&
                      streaming[n->in[0]->id];
    }
    for (int k = 0; k < nn && qp->covered; k++) {
        const struct ir_node *n = q->nodes[k];
        if (n->kind == IR_JOIN)
            for (int j = 0; j < 2; j++)
                if (streaming[n->in[j]->id])
                    no(&c, "streaming rows%s%s feed the join at %d:%d "
                       "(kept per window, not aggregated)",
                       n->in[j]->label ? " of " : "",
                       n->in[j]->label ? n->in[j]->label : "", n->loc.line,
                       n->loc.col);
        if (streaming[k] || frontier[k])
            node_ok(&c, n);
    }
    if (qp->covered && q->per_packet) {
        if (!streaming[q->root->id])
            no(&c, "its output is not per packet");
        else if (q->root->ncols > JIT_MAX_COLS)
            no(&c, "%d columns per row (at most %d)", q->root->ncols,
               JIT_MAX_COLS);
    }
    int64_t slots = q->window_ns && q->hop_ns ? q->window_ns / q->hop_ns : 1;
    if (qp->covered && q->stateful && (slots < 1 || slots > JIT_MAX_SLOTS))
        no(&c, "a hopping window in %lld hops (at most %d)", (long long)slots,
           JIT_MAX_SLOTS);
    int rc = 0;
    if (qp->covered) {
        qp->first_sink = pl->nsinks;
        if (q->per_packet) {
            rc = add_sink(pl, q, q->root, q->root, SINK_ROWS);
        } else {
            for (int k = 0; k < nn && rc == 0; k++) {
                const struct ir_node *n = q->nodes[k];
                if (!frontier[k])
                    continue;
                rc = add_sink(pl, q, n, n->in[0],
                              n->kind == IR_GROUPBY    ? SINK_GROUPBY
                              : n->kind == IR_DISTINCT ? SINK_DISTINCT
                              : n->kind == IR_FOLD     ? SINK_FOLD
                                                       : SINK_HIST);
                if (rc == 0) {
                    pl->sinks[pl->nsinks - 1].nslots = (int)slots;
                    pl->sinks[pl->nsinks - 1].feed_rows =
                        (n->kind == IR_GROUPBY || n->kind == IR_DISTINCT) && !fold_downstream(q, n->id);
                }
                if (rc == 0 && n->kind == IR_FOLD)
                    rc = plan_chain(pl, q, pl->nsinks - 1);
            }
        }
        qp->nsinks = pl->nsinks - qp->first_sink;
        if (rc == 0 && !q->per_packet && qp->nsinks)
            plan_direct(pl, qi);
        for (int f = 0; f < FLD__COUNT; f++) {
            pl->need[f] |= c.need[f];
            pl->slow |= c.slow[f];
            if (c.slow[f])
                pl->want |= hts_want_of((enum hts_field)f);
        }
        /* what was compiled, for the logs */
        int o = snprintf(qp->why, sizeof qp->why, "%s",
                         q->per_packet ? "per-packet rows" : "tables:");
        for (int s = 0; !q->per_packet && s < qp->nsinks; s++) {
            const struct ir_node *n = pl->sinks[qp->first_sink + s].node;
            if (o < (int)sizeof qp->why)
                o += snprintf(qp->why + o, sizeof qp->why - (size_t)o, "%s%s@%d:%d",
                              pl->sinks[qp->first_sink + s].chained ? " ->" : " ",
                              ir_kind_text[n->kind], n->loc.line, n->loc.col);
        }
        if (slots > 1 && !q->per_packet && o < (int)sizeof qp->why)
            o += snprintf(qp->why + o, sizeof qp->why - (size_t)o,
                          " x%lld hopping slots", (long long)slots);
        if (qp->direct && o < (int)sizeof qp->why)
            o += snprintf(qp->why + o, sizeof qp->why - (size_t)o,
                          "; windows finished by compiled code");
        if (o < (int)sizeof qp->why)
            o += snprintf(qp->why + o, sizeof qp->why - (size_t)o, "; reads");
        for (int f = 0; f < FLD__COUNT; f++)
            if (c.need[f] && o < (int)sizeof qp->why)
                o += snprintf(qp->why + o, sizeof qp->why - (size_t)o, " %s",
                              hts_fields[f].name);
        for (int f = 0, first = 1; f < FLD__COUNT; f++)
            if (c.slow[f] && o < (int)sizeof qp->why) {
                o += snprintf(qp->why + o, sizeof qp->why - (size_t)o, "%s%s",
                              first ? "; via the interpreter's decoder: " : " ",
                              hts_fields[f].name);
                first = 0;
            }
    }
    free(streaming);
    free(frontier);
    return rc;
}

static void count_emits(const struct ast_stmt *st, int *n)
{
    if (st->kind == S_EMIT)
        (*n)++;
    for (int i = 0; st->kind == S_IF && i < st->then_.n; i++)
        count_emits(st->then_.v[i], n);
    for (int i = 0; st->kind == S_IF && i < st->else_.n; i++)
        count_emits(st->else_.v[i], n);
}

static void layout(struct jit_plan *pl, struct jit_sink *s)
{
    const struct ir_node *n = s->node;
    s->late = pl->nlate;
    if (s->kind == SINK_ROWS) {
        int o = JIT_ROW_HDR;
        for (int c = 0; c < n->ncols; c++) {
            s->coloff[c] = o;
            s->colw[c] = jit_type_words(n->cols[c].type);
            o += s->colw[c];
        }
        s->row_words = o;
        pl->pkt_words += o;
        return;
    }
    s->table0 = pl->ntables;
    pl->ntables += s->nslots;
    if (s->kind == SINK_HIST)
        return;
    int o = 1; /* word 0: the hash */
    for (int k = 0; k < n->nkeys; k++) {
        s->keyoff[k] = o;
        s->keyw[k] = n->cols[k].type == TY_STR ? 1 : jit_type_words(n->cols[k].type);
        s->nstr += n->cols[k].type == TY_STR;
        o += s->keyw[k];
    }
    for (int a = 0; s->kind == SINK_GROUPBY && a < n->naggs; a++) {
        s->aggoff[a] = o;
        o += n->aggs[a]->agg == AGG_COUNT ? 1 : 2; /* value, inputs seen */
    }
    if (s->kind == SINK_FOLD) {
        for (int a = 0; a < n->naggs; a++) {
            s->aggoff[a] = o;
            o += jit_type_words(n->cols[n->nkeys + a].type);
        }
        s->presoff = o++;
        s->emit_words = JIT_ROW_HDR + o - 1 - 1; /* keys and state, no hash or bits */
        for (int k = 0; k < n->nkeys; k++)
            s->emit_words += n->cols[k].type == TY_STR; /* a key's bytes: pointer */
        int nemit = 0;
        for (int i = 0; i < n->nbody; i++)
            count_emits(n->body[i], &nemit);
        s->nemit = nemit;
        if (!s->chain)
            pl->pkt_words += s->nslots * nemit * s->emit_words;
        else
            pl->sinks[s->chain - 1].reserve = nemit > 1 ? nemit - 1 : 0;
    }
    s->stride = o;
}

int jit_plan_build(struct jit_plan *pl, const struct ir_program *p)
{
    memset(pl, 0, sizeof *pl);
    pl->p = p;
    pl->qs = calloc((size_t)p->nqueries + 1, sizeof *pl->qs);
    if (!pl->qs)
        return -ENOMEM;
    for (int i = 0; i < p->nqueries; i++) {
        if (plan_query(pl, i) < 0)
            return -ENOMEM;
        struct jit_qplan *qp = &pl->qs[i];
        if (!qp->covered) {
            pl->fallback = true;
            continue;
        }
        pl->ncovered++;
        for (int s = qp->first_sink; s < qp->first_sink + qp->nsinks; s++)
            layout(pl, &pl->sinks[s]);
        if (!p->queries[i]->per_packet)
            pl->nlate++;
    }
    return 0;
}

void jit_plan_free(struct jit_plan *pl)
{
    for (int s = 0; s < pl->nsinks; s++)
        free(pl->sinks[s].path);
    free(pl->sinks);
    free(pl->qs);
    memset(pl, 0, sizeof *pl);
}
