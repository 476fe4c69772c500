/*
 * rules.c - what may run in a data plane, whatever the target: expressions
 * a data plane can evaluate, the zone each operator would take after the
 * ones before it, and which groupbys can be refined (plan.h declares them).
 * The planner asks before it cuts; plan_finish and the loader check again;
 * split.c uses the expression rule to split filters.
 */
#include "plan.h"

#include "fields.h"

#include <string.h>

/* ---- what a data plane can evaluate ---- */

static bool type_dp(enum hts_type t)
{
    return t == TY_INT || t == TY_BOOL || t == TY_IPV4 || t == TY_IPV6 ||
           t == TY_MAC;
}

static bool lit_dp(const struct ast_expr *e)
{
    return e->kind == E_LIT && (type_dp(e->lit.type) || e->lit.type == TY_PREFIX4 ||
                                e->lit.type == TY_PREFIX6);
}

bool plan_expr_dp(const struct ast_expr *e, const char **why)
{
    switch (e->kind) {
    case E_LIT:
        if (!lit_dp(e)) {
            *why = "it uses a string constant";
            return false;
        }
        return true;
    case E_NAME:
        if (e->ref_kind == REF_FIELD) {
            if (hts_fields[e->ref].where == WHERE_HOST) {
                *why = "it reads a field only the host can decode";
                return false;
            }
        } else if (e->ref_kind != REF_COL) {
            *why = "it reads fold state";
            return false;
        }
        if (!type_dp(e->type)) {
            *why = "it reads a string or type-set value";
            return false;
        }
        return true;
    case E_UNARY:
        return plan_expr_dp(e->a, why);
    case E_BINARY:
        switch (e->op) {
        case OP_OR: case OP_AND: case OP_EQ: case OP_NE: case OP_LT:
        case OP_LE: case OP_GT: case OP_GE: case OP_BOR: case OP_BAND:
        case OP_ADD: case OP_SUB:
            return plan_expr_dp(e->a, why) && plan_expr_dp(e->b, why);
        case OP_HAS:
            if (e->a->type != TY_INT) {
                *why = "it tests a type set";
                return false;
            }
            return plan_expr_dp(e->a, why) && plan_expr_dp(e->b, why);
        case OP_DIV:
            if ((e->a->type != TY_IPV4 && e->a->type != TY_IPV6) || e->b->kind != E_LIT) {
                *why = "it divides (P4 has no division)";
                return false;
            }
            return plan_expr_dp(e->a, why);
        case OP_IN:
            if (e->b->kind == E_SET) {
                for (int i = 0; i < e->b->nargs; i++)
                    if (!lit_dp(e->b->args[i])) {
                        *why = "it tests membership in a set of strings";
                        return false;
                    }
            } else if (e->b->kind == E_RANGE) {
                if (e->b->a->kind != E_LIT || e->b->b->kind != E_LIT) {
                    *why = "a range bound is not a constant";
                    return false;
                }
            } else if (e->b->kind != E_LIT || !lit_dp(e->b)) {
                *why = "a prefix is not a constant";
                return false;
            }
            return plan_expr_dp(e->a, why);
        default:
            *why = "it uses an operator P4 targets lack (*, %, string tests)";
            return false;
        }
    case E_CALL:
        *why = "it calls a function";
        return false;
    default:
        *why = "it is not an expression a data plane evaluates";
        return false;
    }
}

/* A filter after a data-plane groupby that the data plane can apply per
 * packet as a threshold: a conjunction of `agg >= c` / `agg > c` on
 * aggregates that never decrease (count, max, sum of an unsigned field), so
 * "crossed during the window" equals "holds at its end". */
static bool monotone_agg(const struct ir_node *g, int col)
{
    if (col < g->nkeys || col >= g->nkeys + g->naggs)
        return false;
    const struct ast_expr *a = g->aggs[col - g->nkeys];
    if (a->agg == AGG_COUNT || a->agg == AGG_MAX)
        return true;
    if (a->agg != AGG_SUM)
        return false;
    const struct ast_expr *x = a->args[0];
    if (x->kind != E_NAME)
        return false;
    if (x->ref_kind == REF_FIELD)
        return hts_fields[x->ref].type == TY_INT;
    const struct ir_node *in = g->in[0];
    return x->ref_kind == REF_COL && x->ref < in->ncols && in->cols[x->ref].field >= 0;
}

static bool threshold_ok(const struct ast_expr *e, const struct ir_node *g)
{
    if (e->kind != E_BINARY)
        return false;
    if (e->op == OP_AND)
        return threshold_ok(e->a, g) && threshold_ok(e->b, g);
    const struct ast_expr *col, *lit;
    if (e->op == OP_GE || e->op == OP_GT) {
        col = e->a;
        lit = e->b;
    } else if (e->op == OP_LE || e->op == OP_LT) {
        col = e->b;
        lit = e->a;
    } else {
        return false;
    }
    return col->kind == E_NAME && col->ref_kind == REF_COL && lit->kind == E_LIT &&
           lit->lit.type == TY_INT && monotone_agg(g, col->ref);
}

bool plan_refinable(const struct ir_query *q, const struct ir_node *n, int level,
                    int *col, int *gate, const char **why)
{
    if (n->kind != IR_GROUPBY) {
        *why = "only a groupby is refined";
        return false;
    }
    if (!q->refine_key || !q->nlevels) {
        *why = "the query has no refine hint";
        return false;
    }
    int f = fld_lookup(q->refine_key, strlen(q->refine_key));
    int width = f >= 0 && hts_fields[f].type == TY_IPV6 ? 128 : 32;
    bool listed = level == 0;
    for (int i = 0; i < q->nlevels; i++)
        listed |= q->levels[i] == level;
    if (!listed || level >= width) {
        *why = "the level is not one of the hint's coarser levels";
        return false;
    }
    *col = -1;
    for (int i = 0; i < n->nkeys && *col < 0; i++)
        if (f >= 0 && n->cols[i].field == f)
            *col = i;
    if (*col < 0) {
        *why = "no key of the groupby is the refined field";
        return false;
    }
    *gate = -1;
    int nc = 0;
    for (int k = 0; k < q->nnodes; k++)
        for (int j = 0; j < q->nodes[k]->nin; j++)
            if (q->nodes[k]->in[j] == n) {
                nc++;
                *gate = k;
            }
    if (nc != 1 || q->nodes[*gate]->kind != IR_FILTER ||
        !threshold_ok(q->nodes[*gate]->expr, n)) {
        *why = "refinement needs a threshold (count, max or sum of a field >= "
               "constant) as the groupby's only consumer";
        return false;
    }
    return true;
}

static bool tumbling(const struct ir_query *q)
{
    return q->window_ns > 0 && q->hop_ns == q->window_ns;
}

int plan_zone_for(const struct ir_query *q, const struct ir_node *n,
                  const uint8_t *zone, const char **why)
{
    if (n->kind == IR_SOURCE)
        return PLAN_STREAM;
    if (n->kind == IR_JOIN) {
        *why = "joins run on the host";
        return -1;
    }
    if (n->kind == IR_FOLD) {
        *why = "folds run on the host";
        return -1;
    }
    int zi = zone[n->in[0]->id];
    if (zi == PLAN_HOST) {
        *why = "its input runs on the host";
        return -1;
    }
    bool stateful = ir_kind_stateful(n->kind);
    if (stateful && !tumbling(q)) {
        *why = "data-plane registers hold tumbling windows only";
        return -1;
    }
    switch (n->kind) {
    case IR_FILTER:
        if (zi == PLAN_AGG && n->in[0]->kind == IR_GROUPBY) {
            if (!threshold_ok(n->expr, n->in[0])) {
                *why = "only thresholds (count, max or sum of a field >= constant) "
                       "run after a data-plane groupby";
                return -1;
            }
            return PLAN_THRESH;
        }
        if (zi != PLAN_STREAM && zi != PLAN_DIST) {
            *why = "it follows a data-plane aggregate";
            return -1;
        }
        return plan_expr_dp(n->expr, why) ? zi : -1;
    case IR_SAMPLE:
        if (zi != PLAN_STREAM) {
            *why = "sampling runs on packets only";
            return -1;
        }
        return PLAN_STREAM;
    case IR_MAP:
    case IR_EXPORT:
        if (zi != PLAN_STREAM && !(zi == PLAN_DIST && n->kind == IR_MAP)) {
            *why = "it follows a data-plane aggregate";
            return -1;
        }
        for (int i = 0; i < n->nexprs; i++) {
            if (!plan_expr_dp(n->exprs[i], why))
                return -1;
            if (!type_dp(n->cols[i].type)) {
                *why = "a column is not a number, flag or address";
                return -1;
            }
        }
        return zi;
    case IR_DISTINCT:
    case IR_GROUPBY:
        if (zi != PLAN_STREAM && !(zi == PLAN_DIST && n->kind == IR_GROUPBY)) {
            *why = n->kind == IR_DISTINCT ? "a data-plane distinct reads packets"
                                          : "it follows a data-plane aggregate";
            return -1;
        }
        for (int i = 0; i < n->nkeys; i++) {
            if (!plan_expr_dp(n->exprs[i], why))
                return -1;
            if (!type_dp(n->cols[i].type)) {
                *why = "a key is not a number, flag or address";
                return -1;
            }
        }
        for (int i = 0; i < n->naggs; i++) {
            const struct ast_expr *a = n->aggs[i];
            if (a->agg == AGG_COUNT)
                continue;
            if (a->agg == AGG_APPROX_COUNT) {
                *why = "a Count-Min sketch (approx_count, approx_sum) has no "
                       "data-plane form yet";
                return -1;
            }
            if (a->agg == AGG_APPROX_DISTINCT) {
                *why = "approx_distinct's sketch has no data-plane form";
                return -1;
            }
            if (a->agg == AGG_APPROX_COUNT || a->agg == AGG_APPROX_SUM) {
                *why = "a Count-Min sketch (approx_count, approx_sum) has no "
                       "data-plane form yet";
                return -1;
            }
            if (!plan_expr_dp(a->args[0], why))
                return -1;
            enum hts_type t = a->args[0]->type;
            if (t != TY_INT && !((a->agg == AGG_MIN || a->agg == AGG_MAX) && t == TY_IPV4)) {
                *why = "an aggregate is not over integers";
                return -1;
            }
        }
        return n->kind == IR_DISTINCT ? PLAN_DIST : PLAN_AGG;
    case IR_HISTOGRAM:
        if (zi != PLAN_STREAM) {
            *why = "a data-plane histogram reads packets";
            return -1;
        }
        return plan_expr_dp(n->expr, why) ? PLAN_AGG : -1;
    default:
        *why = "it has no data-plane form";
        return -1;
    }
}
