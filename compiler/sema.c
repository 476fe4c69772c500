/*
 * sema.c - semantic analysis: from the AST to the typed IR.
 *
 * One walk does both jobs, because knowing what a name means needs the schema
 * of the operator's input, and the schema is what the IR is made of. For each
 * query: parameters (defaults, then --set overrides), the window, sub-queries
 * (built when first used, so order in the file does not matter and cycles are
 * caught), then the result pipeline. Expressions are typed in place.
 *
 * Every problem is reported on the diag context and the walk goes on with an
 * error type that silences follow-on complaints, so one run shows them all.
 */
#include "ir.h"

#include "fields.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sema {
    struct arena *arena;
    struct diag *d;
    struct ast_query *aq;
    struct ir_query *q;
    struct ast_list nodes; /* struct ir_node * */
    struct ir_node *source;
    /* sub-queries: built lazily */
    struct ir_node **bound;
    int *state; /* 0 not built, 1 being built, 2 built */
    int *uses;
    struct ir_override *ovr;
    int novr;
};

struct scope {
    const struct ir_node *in;  /* NULL: only parameters and constants */
    struct ast_list *state;    /* fold state: struct ast_item * */
    enum hts_type *state_type;
};

enum { CTX_AGG = 1, CTX_INSET = 2 };

const char *const ir_kind_text[IR__COUNT] = {
#define X(id, text) [IR_##id] = text,
    HTS_OPKINDS(X)
#undef X
        [IR_SOURCE] = "packets",
    [IR_JOIN] = "join",
};

static const struct {
    const char *name;
    int64_t value;
} constants[] = {
#define X(name, value) {name, value},
    HTS_CONSTANTS(X)
#undef X
};

static const struct {
    const char *name;
    int nargs;
} funcs[FN__COUNT] = {
#define X(id, name, nargs) [FN_##id] = {name, nargs},
    HTS_FUNCS(X)
#undef X
};

/* a push onto an arena list without a parse context */
static void push(struct sema *s, struct ast_list *l, void *x)
{
    struct parse_ctx c = {.arena = s->arena};
    ast_list_push(&c, l, x);
}

static void *alloc(struct sema *s, size_t n) { return arena_alloc(s->arena, n); }

static bool is_error(enum hts_type t) { return t == TY_ERROR; }

/* ---- constants ---- */

/* Folds a checked constant expression (literals, parameters, unary minus,
 * integer arithmetic). False if it is not constant. */
static bool const_eval(struct ast_expr *e, hts_value *out)
{
    hts_value a, b;
    switch (e->kind) {
    case E_LIT:
        *out = e->lit;
        return true;
    case E_UNARY:
        if (e->op != OP_NEG || !const_eval(e->a, &a) || a.type != TY_INT)
            return false;
        *out = hts_int((int64_t)(0 - (uint64_t)a.u.i));
        return true;
    case E_BINARY:
        if (!const_eval(e->a, &a) || !const_eval(e->b, &b) ||
            a.type != TY_INT || b.type != TY_INT)
            return false;
        switch (e->op) {
        case OP_ADD: *out = hts_int((int64_t)((uint64_t)a.u.i + (uint64_t)b.u.i)); return true;
        case OP_SUB: *out = hts_int((int64_t)((uint64_t)a.u.i - (uint64_t)b.u.i)); return true;
        case OP_MUL: *out = hts_int((int64_t)((uint64_t)a.u.i * (uint64_t)b.u.i)); return true;
        case OP_BOR: *out = hts_int(a.u.i | b.u.i); return true;
        default: return false;
        }
    default:
        return false;
    }
}

/* ---- names ---- */

/* Column index by name: exact, else a unique "X.name" suffix match (columns
 * qualified by a join). -1 unknown, -2 ambiguous. */
static int find_col(const struct ir_node *in, const char *name)
{
    for (int i = 0; i < in->ncols; i++)
        if (strcmp(in->cols[i].name, name) == 0)
            return i;
    if (strchr(name, '.'))
        return -1;
    int found = -1;
    size_t n = strlen(name);
    for (int i = 0; i < in->ncols; i++) {
        const char *c = in->cols[i].name;
        size_t cn = strlen(c);
        if (cn > n + 1 && c[cn - n - 1] == '.' && strcmp(c + cn - n, name) == 0) {
            if (found >= 0)
                return -2;
            found = i;
        }
    }
    return found;
}

static void list_cols(const struct ir_node *in, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < in->ncols && len + 4 < cap; i++) {
        int n = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "",
                         in->cols[i].name);
        if (n < 0 || (size_t)n >= cap - len) {
            snprintf(buf + (cap > 4 ? cap - 4 : 0), 4, "...");
            return;
        }
        len += (size_t)n;
    }
}

static const struct ir_param *find_param(struct sema *s, const char *name)
{
    for (int i = 0; i < s->q->nparams; i++)
        if (strcmp(s->q->params[i].name, name) == 0)
            return &s->q->params[i];
    return NULL;
}

static enum hts_type resolve_name(struct sema *s, struct scope *sc,
                                  struct ast_expr *e)
{
    if (sc->state) {
        for (int i = 0; i < sc->state->n; i++) {
            struct ast_item *it = sc->state->v[i];
            /* a state item without a name was reported; it names nothing */
            if (it->name && strcmp(it->name, e->name) == 0) {
                e->ref_kind = REF_STATE;
                e->ref = i;
                return e->type = sc->state_type[i];
            }
        }
    }
    if (sc->in && sc->in->packet) {
        int f = fld_lookup(e->name, strlen(e->name));
        if (f >= 0) {
            e->ref_kind = REF_FIELD;
            e->ref = f;
            return e->type = hts_fields[f].type;
        }
    } else if (sc->in) {
        int c = find_col(sc->in, e->name);
        if (c == -2) {
            diag_error(s->d, e->loc, "column name '%s' is ambiguous here; "
                       "qualify it with its sub-query's name", e->name);
            return e->type = TY_ERROR;
        }
        if (c >= 0) {
            e->ref_kind = REF_COL;
            e->ref = c;
            return e->type = sc->in->cols[c].type;
        }
    }
    const struct ir_param *p = find_param(s, e->name);
    if (p) {
        e->kind = E_LIT;
        e->ref_kind = REF_PARAM;
        e->lit = p->value;
        return e->type = (enum hts_type)p->value.type;
    }
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
        if (strcmp(constants[i].name, e->name) == 0) {
            e->kind = E_LIT;
            e->lit = hts_int(constants[i].value);
            return e->type = TY_INT;
        }
    }
    /* not found: say what the input offers */
    if (!sc->in && sc->state && fld_lookup(e->name, strlen(e->name)) >= 0) {
        diag_error(s->d, e->loc, "'%s' is a packet field, but a fold's close "
                   "block runs with no packet: use state variables", e->name);
    } else if (!sc->in && fld_lookup(e->name, strlen(e->name)) >= 0) {
        diag_error(s->d, e->loc, "'%s' is a packet field, but a constant is "
                   "needed here", e->name);
    } else if (!sc->in) {
        diag_error(s->d, e->loc, "unknown parameter '%s'", e->name);
    } else if (sc->in->packet) {
        const char *sug = fld_suggest(e->name, strlen(e->name));
        if (sug)
            diag_error(s->d, e->loc, "unknown field '%s'; did you mean '%s'?",
                       e->name, sug);
        else
            diag_error(s->d, e->loc, "unknown field or parameter '%s'",
                       e->name);
    } else {
        char cols[256];
        list_cols(sc->in, cols, sizeof cols);
        if (fld_lookup(e->name, strlen(e->name)) >= 0)
            diag_error(s->d, e->loc,
                       "'%s' is a packet field, but this operator's input is "
                       "tuples of (%s)", e->name, cols);
        else
            diag_error(s->d, e->loc, "unknown column '%s'; the input has (%s)",
                       e->name, cols);
    }
    return e->type = TY_ERROR;
}

/* ---- expressions ---- */

static enum hts_type check(struct sema *s, struct scope *sc, struct ast_expr *e,
                           int ctx);

static enum hts_type mismatch(struct sema *s, struct ast_expr *e,
                              enum hts_type a, enum hts_type b)
{
    if (!is_error(a) && !is_error(b))
        diag_error(s->d, e->loc, "type mismatch: '%s' between %s and %s",
                   ast_op_text[e->op], hts_type_name(a), hts_type_name(b));
    return TY_ERROR;
}

static enum hts_type want(struct sema *s, struct ast_expr *e, enum hts_type got,
                          enum hts_type need, const char *what)
{
    if (is_error(got) || got == need)
        return got;
    diag_error(s->d, e->loc, "%s must be %s, not %s", what,
               hts_type_name(need), hts_type_name(got));
    return TY_ERROR;
}

/* x in {a, b}, x in 10.0.0.0/8, x in 1..5 */
static enum hts_type check_in(struct sema *s, struct scope *sc,
                              struct ast_expr *e)
{
    enum hts_type l = check(s, sc, e->a, 0);
    enum hts_type r = check(s, sc, e->b, CTX_INSET);
    if (is_error(l) || is_error(r))
        return TY_ERROR;
    struct ast_expr *b = e->b;
    if (b->kind == E_SET) {
        for (int i = 0; i < b->nargs; i++) {
            struct ast_expr *x = b->args[i];
            hts_value v;
            if (is_error(x->type))
                continue;
            if (!const_eval(x, &v)) {
                diag_error(s->d, x->loc, "set elements must be constants");
                continue;
            }
            bool ok = v.type == l || (l == TY_IPV4 && v.type == TY_PREFIX4) ||
                      (l == TY_IPV6 && v.type == TY_PREFIX6);
            if (!ok)
                diag_error(s->d, x->loc, "set element is %s but '%s' is %s",
                           hts_type_name((enum hts_type)v.type),
                           ast_op_text[OP_IN], hts_type_name(l));
        }
        return TY_BOOL;
    }
    if (b->kind == E_RANGE) {
        if (l != TY_INT)
            return mismatch(s, e, l, TY_INT);
        return TY_BOOL;
    }
    if ((l == TY_IPV4 && r == TY_PREFIX4) || (l == TY_IPV6 && r == TY_PREFIX6))
        return TY_BOOL;
    diag_error(s->d, e->loc, "'in' needs a set {...}, a range a..b or a "
               "prefix matching %s, not %s", hts_type_name(l),
               hts_type_name(r));
    return TY_ERROR;
}

static enum hts_type check_binary(struct sema *s, struct scope *sc,
                                  struct ast_expr *e)
{
    if (e->op == OP_IN)
        return check_in(s, sc, e);
    enum hts_type a = check(s, sc, e->a, 0);
    enum hts_type b = check(s, sc, e->b, 0);
    if (is_error(a) || is_error(b))
        return TY_ERROR;
    switch (e->op) {
    case OP_OR:
    case OP_AND:
        if (a != TY_BOOL || b != TY_BOOL)
            return mismatch(s, e, a, b);
        return TY_BOOL;
    case OP_EQ:
    case OP_NE:
        if ((a == TY_IPV4 && b == TY_PREFIX4) || (a == TY_IPV6 && b == TY_PREFIX6)) {
            diag_error(s->d, e->loc, "comparing an address with a prefix; "
                       "use 'in' to test membership");
            return TY_ERROR;
        }
        if (a != b || a == TY_TYPESET || a == TY_PREFIX4 || a == TY_PREFIX6)
            return mismatch(s, e, a, b);
        return TY_BOOL;
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        if (a != b || (a != TY_INT && a != TY_IPV4 && a != TY_IPV6))
            return mismatch(s, e, a, b);
        return TY_BOOL;
    case OP_HAS:
        if ((a == TY_INT || a == TY_TYPESET) && b == TY_INT)
            return TY_BOOL;
        return mismatch(s, e, a, b);
    case OP_CONTAINS:
    case OP_STARTSWITH:
    case OP_ENDSWITH:
        if (a != TY_STR || b != TY_STR)
            return mismatch(s, e, a, b);
        return TY_BOOL;
    case OP_DIV:
        if (a == TY_IPV4 || a == TY_IPV6) { /* prefix mask: ipv4.dst/16 */
            hts_value v;
            int max = a == TY_IPV4 ? 32 : 128;
            if (b != TY_INT || !const_eval(e->b, &v) || v.u.i < 0 || v.u.i > max) {
                diag_error(s->d, e->b->loc, "a prefix mask needs a constant "
                           "length from 0 to %d", max);
                return TY_ERROR;
            }
            return a;
        }
        /* fallthrough */
    case OP_BOR:
    case OP_BAND:
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_MOD:
        if (a != TY_INT || b != TY_INT)
            return mismatch(s, e, a, b);
        return TY_INT;
    default:
        return mismatch(s, e, a, b);
    }
}

static enum hts_type check_call(struct sema *s, struct scope *sc,
                                struct ast_expr *e, int ctx)
{
    for (int i = 0; i < AGG__COUNT; i++) {
        if (strcmp(e->name, ast_agg_text[i]) != 0)
            continue;
        if (e->nargs == 2 && (i == AGG_MIN || i == AGG_MAX))
            break; /* the scalar min(a, b) / max(a, b) */
        if (!(ctx & CTX_AGG)) {
            diag_error(s->d, e->loc, "aggregate '%s' is only allowed in a "
                       "groupby's aggregate list", e->name);
            return TY_ERROR;
        }
        e->agg = (enum ast_agg)i;
        int need = i == AGG_COUNT || i == AGG_APPROX_COUNT ? 0 : 1;
        if (e->nargs != need) {
            diag_error(s->d, e->loc, "%s takes %s", e->name,
                       need ? "one argument" : "no argument");
            return TY_ERROR;
        }
        if (i == AGG_COUNT || i == AGG_APPROX_COUNT)
            return TY_INT;
        enum hts_type t = check(s, sc, e->args[0], 0);
        if (is_error(t))
            return t;
        if ((i == AGG_MIN || i == AGG_MAX) && (t == TY_IPV4 || t == TY_INT))
            return t;
        if (i == AGG_APPROX_DISTINCT) {
            if (t == TY_SET || t == TY_TYPESET || t == TY_PREFIX4 || t == TY_PREFIX6) {
                diag_error(s->d, e->args[0]->loc, "approx_distinct counts values of a "
                           "field or expression (a number, flag, address, MAC or string), "
                           "not a %s", hts_type_name(t));
                return TY_ERROR;
            }
            return TY_INT;
        }
        return want(s, e->args[0], t, TY_INT, "the argument of an aggregate");
    }
    for (int i = 0; i < FN__COUNT; i++) {
        if (strcmp(e->name, funcs[i].name) != 0)
            continue;
        e->fn = i;
        if (e->nargs != funcs[i].nargs) {
            diag_error(s->d, e->loc, "%s takes %d argument%s", e->name,
                       funcs[i].nargs, funcs[i].nargs == 1 ? "" : "s");
            return TY_ERROR;
        }
        if (i == FN_COALESCE || i == FN_PRESENT) {
            enum hts_type ta = check(s, sc, e->args[0], 0);
            if (i == FN_PRESENT)
                return is_error(ta) ? ta : TY_BOOL;
            enum hts_type tb = check(s, sc, e->args[1], 0);
            if (is_error(ta) || is_error(tb))
                return TY_ERROR;
            if (ta != tb) {
                diag_error(s->d, e->loc, "coalesce needs two values of one "
                           "type, not %s and %s", hts_type_name(ta),
                           hts_type_name(tb));
                return TY_ERROR;
            }
            return ta;
        }
        enum hts_type t = TY_INT;
        for (int a = 0; a < e->nargs; a++) {
            enum hts_type ta = check(s, sc, e->args[a], 0);
            if (i == FN_HASH)
                continue;
            if (is_error(want(s, e->args[a], ta, TY_INT, "a function argument")))
                t = TY_ERROR;
        }
        return t;
    }
    diag_error(s->d, e->loc, "unknown function '%s'", e->name);
    for (int a = 0; a < e->nargs; a++)
        check(s, sc, e->args[a], 0);
    return TY_ERROR;
}

static enum hts_type check(struct sema *s, struct scope *sc, struct ast_expr *e,
                           int ctx)
{
    enum hts_type t = TY_ERROR;
    switch (e->kind) {
    case E_LIT:
        t = (enum hts_type)e->lit.type;
        break;
    case E_NAME:
        t = resolve_name(s, sc, e);
        break;
    case E_UNARY:
        t = check(s, sc, e->a, 0);
        if (e->op == OP_NOT)
            t = want(s, e->a, t, TY_BOOL, "the operand of 'not'");
        else
            t = want(s, e->a, t, TY_INT, "the operand of '-'");
        break;
    case E_BINARY:
        t = check_binary(s, sc, e);
        break;
    case E_CALL:
        t = check_call(s, sc, e, ctx);
        break;
    case E_SET:
        if (!(ctx & CTX_INSET)) {
            diag_error(s->d, e->loc, "a set {...} is only allowed after 'in'");
            return e->type = TY_ERROR;
        }
        for (int i = 0; i < e->nargs; i++)
            check(s, sc, e->args[i], 0);
        t = TY_SET;
        break;
    case E_RANGE:
        if (!(ctx & CTX_INSET)) {
            diag_error(s->d, e->loc, "a range a..b is only allowed after 'in'");
            return e->type = TY_ERROR;
        }
        t = TY_INT;
        if (is_error(want(s, e->a, check(s, sc, e->a, 0), TY_INT, "a range bound")) ||
            is_error(want(s, e->b, check(s, sc, e->b, 0), TY_INT, "a range bound")))
            t = TY_ERROR;
        break;
    }
    return e->type = t;
}

/* A constant integer (window length, bucket edge, sample rate...). */
static bool const_int(struct sema *s, struct ast_expr *e, const char *what,
                      int64_t min, int64_t *out)
{
    struct scope sc = {0};
    hts_value v;
    enum hts_type t = check(s, &sc, e, 0);
    if (is_error(t))
        return false;
    if (t != TY_INT || !const_eval(e, &v)) {
        diag_error(s->d, e->loc, "%s must be a constant integer", what);
        return false;
    }
    if (v.u.i < min) {
        diag_error(s->d, e->loc, "%s must be at least %lld", what,
                   (long long)min);
        return false;
    }
    *out = v.u.i;
    return true;
}

/* ---- operators ---- */

static struct ir_node *new_node(struct sema *s, enum ir_kind k, struct loc l,
                                struct ir_node *a, struct ir_node *b)
{
    struct ir_node *n = alloc(s, sizeof *n);
    n->kind = k;
    n->loc = l;
    n->in[0] = a;
    n->in[1] = b;
    n->nin = b ? 2 : a ? 1 : 0;
    n->id = s->nodes.n;
    push(s, &s->nodes, n);
    return n;
}

static void copy_schema(struct ir_node *n, const struct ir_node *in)
{
    n->packet = in->packet;
    n->cols = in->cols;
    n->ncols = in->ncols;
}

/* Checks items (map, export, keys) against `in` and makes them columns of n. */
static void items_to_cols(struct sema *s, struct ir_node *n,
                          const struct ir_node *in, struct ast_list *items,
                          int first)
{
    struct scope sc = {.in = in};
    for (int i = 0; i < items->n; i++) {
        struct ast_item *it = items->v[i];
        struct ir_col *c = &n->cols[first + i];
        c->type = check(s, &sc, it->expr, 0);
        c->field = -1;
        if (it->expr->kind == E_NAME) {
            if (it->expr->ref_kind == REF_FIELD)
                c->field = it->expr->ref;
            else if (it->expr->ref_kind == REF_COL)
                c->field = in->cols[it->expr->ref].field;
        }
        c->name = it->name;
        if (!c->name && it->expr->kind == E_NAME)
            c->name = it->expr->name;
        else if (!c->name && it->expr->kind == E_LIT && it->expr->ref_kind == REF_PARAM)
            c->name = it->expr->name;
        if (!c->name) {
            diag_error(s->d, it->loc, "give this column a name: NAME = expression");
            c->name = "?";
        }
        n->exprs[first + i] = it->expr;
        if (c->type == TY_SET || c->type == TY_PREFIX4 || c->type == TY_PREFIX6 ||
            c->type == TY_TYPESET) {
            diag_error(s->d, it->loc, "a column cannot hold a %s", hts_type_name(c->type));
            c->type = TY_ERROR;
        }
    }
}

static void check_unique_cols(struct sema *s, struct ir_node *n)
{
    for (int i = 0; i < n->ncols; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(n->cols[i].name, n->cols[j].name) == 0 &&
                strcmp(n->cols[i].name, "?") != 0)
                diag_error(s->d, n->loc, "duplicate column '%s' in %s",
                           n->cols[i].name, ir_kind_text[n->kind]);
}

static bool stateful_upstream(const struct ir_node *n)
{
    for (; n; n = n->in[0]) {
        if (ir_kind_stateful(n->kind))
            return true;
    }
    return false;
}

static void check_stmts(struct sema *s, struct scope *sc, struct ast_list *l,
                        struct ir_node *n)
{
    for (int i = 0; i < l->n; i++) {
        struct ast_stmt *st = l->v[i];
        if (st->kind == S_EMIT) {
            n->emits = true;
            continue;
        }
        enum hts_type t = check(s, sc, st->expr, 0);
        if (st->kind == S_IF) {
            want(s, st->expr, t, TY_BOOL, "an if condition");
            check_stmts(s, sc, &st->then_, n);
            check_stmts(s, sc, &st->else_, n);
            continue;
        }
        st->ref = -1;
        for (int v = 0; v < sc->state->n; v++)
            if (((struct ast_item *)sc->state->v[v])->name &&
                strcmp(((struct ast_item *)sc->state->v[v])->name, st->name) == 0)
                st->ref = v;
        if (st->ref < 0) {
            diag_error(s->d, st->loc, "'%s' is not a state variable of this fold",
                       st->name);
            continue;
        }
        if (!is_error(t) && !is_error(sc->state_type[st->ref]) &&
            t != sc->state_type[st->ref])
            diag_error(s->d, st->expr->loc, "assigning %s to state variable "
                       "'%s' of type %s", hts_type_name(t), st->name,
                       hts_type_name(sc->state_type[st->ref]));
    }
}

static struct ir_node *build_op(struct sema *s, struct ir_node *in,
                                struct ast_opnode *op, bool last_of_result)
{
    struct ir_node *n = new_node(s, (enum ir_kind)op->kind, op->loc, in, NULL);
    struct scope sc = {.in = in};
    if ((op->kind == K_GROUPBY || op->kind == K_FOLD || op->kind == K_DISTINCT) &&
        op->items.n > IR_MAX_KEYS) {
        diag_error(s->d, op->loc, "%s has %d keys; at most %d are allowed",
                   ast_opkind_text[op->kind], op->items.n, IR_MAX_KEYS);
        op->items.n = IR_MAX_KEYS;
    }
    if (op->aggs.n > IR_MAX_AGGS) {
        diag_error(s->d, op->loc, "%s has %d %s; at most %d are allowed",
                   ast_opkind_text[op->kind], op->aggs.n,
                   op->kind == K_FOLD ? "state variables" : "aggregates",
                   IR_MAX_AGGS);
        op->aggs.n = IR_MAX_AGGS;
    }
    switch (op->kind) {
    case K_FILTER:
        copy_schema(n, in);
        n->expr = op->expr;
        want(s, op->expr, check(s, &sc, op->expr, 0), TY_BOOL,
             "a filter condition");
        break;
    case K_MAP:
    case K_EXPORT:
    case K_DISTINCT:
        n->ncols = n->nexprs = op->items.n;
        n->cols = alloc(s, (size_t)n->ncols * sizeof *n->cols);
        n->exprs = alloc(s, (size_t)n->ncols * sizeof *n->exprs);
        items_to_cols(s, n, in, &op->items, 0);
        if (op->kind == K_DISTINCT)
            n->nkeys = n->ncols;
        if (op->kind == K_EXPORT) {
            if (!last_of_result)
                diag_error(s->d, op->loc, "export must be the last operator "
                           "of a query's result");
            else if (stateful_upstream(in))
                diag_error(s->d, op->loc, "export is per packet: it cannot "
                           "follow a stateful operator");
        }
        check_unique_cols(s, n);
        break;
    case K_GROUPBY:
    case K_FOLD: {
        bool fold = op->kind == K_FOLD;
        int nk = op->items.n, na = op->aggs.n;
        n->ncols = nk + na;
        n->nexprs = n->nkeys = nk;
        n->cols = alloc(s, (size_t)n->ncols * sizeof *n->cols);
        n->exprs = alloc(s, (size_t)nk * sizeof *n->exprs);
        n->aggs = alloc(s, (size_t)na * sizeof *n->aggs);
        n->naggs = na;
        items_to_cols(s, n, in, &op->items, 0);
        enum hts_type *stypes = alloc(s, (size_t)(na + 1) * sizeof *stypes);
        for (int i = 0; i < na; i++) {
            struct ast_item *it = op->aggs.v[i];
            struct ir_col *c = &n->cols[nk + i];
            c->field = -1;
            c->name = it->name;
            n->aggs[i] = it->expr;
            if (!c->name) {
                diag_error(s->d, it->loc, fold ? "a state variable needs a "
                           "name: NAME = initial value" : "name this "
                           "aggregate: NAME = count()");
                c->name = "?";
            }
            if (fold) {
                hts_value v;
                struct scope none = {0};
                c->type = check(s, &none, it->expr, 0);
                if (!is_error(c->type) && !const_eval(it->expr, &v)) {
                    diag_error(s->d, it->expr->loc, "a state variable's "
                               "initial value must be a constant");
                    c->type = TY_ERROR;
                }
            } else {
                c->type = check(s, &sc, it->expr, CTX_AGG);
                if (it->expr->kind != E_CALL || it->expr->agg == AGG_NONE) {
                    if (!is_error(c->type))
                        diag_error(s->d, it->expr->loc, "'%s' is not an "
                                   "aggregate: use count(), sum(x), min(x), "
                                   "max(x) or avg(x)", c->name);
                    c->type = TY_ERROR;
                }
            }
            stypes[i] = c->type;
        }
        if (fold) {
            struct scope fs = {.in = in, .state = &op->aggs, .state_type = stypes};
            n->body = (struct ast_stmt **)op->body.v;
            n->nbody = op->body.n;
            check_stmts(s, &fs, &op->body, n);
            /* at window close there is no packet: state variables only */
            struct scope cs = {.state = &op->aggs, .state_type = stypes};
            n->close = (struct ast_stmt **)op->close.v;
            n->nclose = op->close.n;
            check_stmts(s, &cs, &op->close, n);
        }
        check_unique_cols(s, n);
        break;
    }
    case K_SAMPLE: {
        int64_t one = 0;
        copy_schema(n, in);
        if (!in->packet)
            diag_error(s->d, op->loc, "sample works on packets: put it "
                       "before map, groupby and the like");
        if (const_int(s, op->expr, "the sampling numerator", 1, &one) && one != 1)
            diag_error(s->d, op->expr->loc, "write sampling as 'sample 1 in N'");
        const_int(s, op->n, "the sampling rate N", 1, &n->sample_n);
        break;
    }
    case K_HISTOGRAM: {
        n->expr = op->expr;
        want(s, op->expr, check(s, &sc, op->expr, 0), TY_INT,
             "a histogram's value");
        n->nedges = op->buckets.n;
        n->edges = alloc(s, (size_t)n->nedges * sizeof *n->edges);
        for (int i = 0; i < n->nedges; i++) {
            if (const_int(s, op->buckets.v[i], "a bucket edge", 0, &n->edges[i]) &&
                i > 0 && n->edges[i] <= n->edges[i - 1])
                diag_error(s->d, ((struct ast_expr *)op->buckets.v[i])->loc,
                           "bucket edges must increase");
        }
        n->ncols = 3;
        n->cols = alloc(s, 3 * sizeof *n->cols);
        const char *names[3] = {"lo", "hi", "count"};
        for (int i = 0; i < 3; i++)
            n->cols[i] = (struct ir_col){names[i], TY_INT, -1};
        break;
    }
    default:
        break;
    }
    if (ir_kind_stateful(n->kind))
        s->q->stateful = true;
    return n;
}

static struct ir_node *build_pipeline(struct sema *s, struct ast_pipeline *p,
                                      bool result);

static struct ir_node *build_binding(struct sema *s, const char *name,
                                     struct loc loc)
{
    for (int i = 0; i < s->aq->bindings.n; i++) {
        struct ast_binding *b = s->aq->bindings.v[i];
        if (strcmp(b->name, name) != 0)
            continue;
        s->uses[i]++;
        if (s->state[i] == 1) {
            diag_error(s->d, loc, "sub-query '%s' depends on itself", name);
            return NULL;
        }
        if (s->state[i] == 0) {
            s->state[i] = 1;
            s->bound[i] = build_pipeline(s, b->pipe, false);
            if (s->bound[i])
                s->bound[i]->label = b->name;
            s->state[i] = 2;
        }
        return s->bound[i];
    }
    diag_error(s->d, loc, "unknown sub-query '%s'", name);
    return NULL;
}

/* Names the non-key columns of one join side: "sub.col" for a named
 * sub-query, unchanged when the side is itself a join. */
static const char *side_name(struct sema *s, const struct ast_source *src,
                             const char *col)
{
    if (src->kind != SRC_NAME)
        return col;
    size_t n = strlen(src->name) + strlen(col) + 2;
    char *r = alloc(s, n);
    snprintf(r, n, "%s.%s", src->name, col);
    return r;
}

static struct ir_node *build_source(struct sema *s, struct ast_source *src)
{
    if (src->kind == SRC_PACKETS) {
        if (!s->source) {
            s->source = new_node(s, IR_SOURCE, src->loc, NULL, NULL);
            s->source->packet = true;
        }
        return s->source;
    }
    if (src->kind == SRC_NAME)
        return build_binding(s, src->name, src->loc);
    struct ir_node *l = build_source(s, src->left);
    struct ir_node *r = build_source(s, src->right);
    if (!l || !r)
        return NULL;
    struct ir_node *n = new_node(s, IR_JOIN, src->loc, l, r);
    n->left_join = src->left_join;
    if (l->packet || r->packet) {
        diag_error(s->d, src->loc, "join inputs must be sub-queries that "
                   "produce tuples (groupby, distinct, map...), not packets");
        return NULL;
    }
    int nk = src->keys.n;
    if (nk > IR_MAX_KEYS) {
        diag_error(s->d, src->loc, "a join has at most %d keys", IR_MAX_KEYS);
        return NULL;
    }
    n->njk = nk;
    n->lkeys = alloc(s, (size_t)nk * sizeof(int));
    n->rkeys = alloc(s, (size_t)nk * sizeof(int));
    n->ncols = l->ncols + r->ncols - nk;
    if (n->ncols < nk)
        n->ncols = nk;
    n->cols = alloc(s, (size_t)(l->ncols + r->ncols) * sizeof *n->cols);
    n->jside = alloc(s, (size_t)(l->ncols + r->ncols));
    n->jcol = alloc(s, (size_t)(l->ncols + r->ncols) * sizeof(int));
    bool ok = true;
    for (int k = 0; k < nk; k++) {
        struct ast_expr *key = src->keys.v[k];
        int li = find_col(l, key->name), ri = find_col(r, key->name);
        if (li < 0 || ri < 0) {
            diag_error(s->d, key->loc, "join key '%s' is not a column of %s",
                       key->name, li < 0 ? "the left side" : src->right->name);
            ok = false;
            continue;
        }
        if (l->cols[li].type != r->cols[ri].type) {
            diag_error(s->d, key->loc, "join key '%s' is %s on the left but "
                       "%s in '%s'", key->name, hts_type_name(l->cols[li].type),
                       hts_type_name(r->cols[ri].type), src->right->name);
            ok = false;
        }
        n->lkeys[k] = li;
        n->rkeys[k] = ri;
        n->cols[k] = (struct ir_col){key->name, l->cols[li].type, l->cols[li].field};
        n->jside[k] = 0;
        n->jcol[k] = li;
    }
    if (!ok)
        return NULL;
    int o = nk;
    for (int side = 0; side < 2; side++) {
        const struct ir_node *in = side ? r : l;
        const int *keys = side ? n->rkeys : n->lkeys;
        for (int i = 0; i < in->ncols; i++) {
            bool is_key = false;
            for (int k = 0; k < nk; k++)
                is_key |= keys[k] == i;
            if (is_key)
                continue;
            n->cols[o] = in->cols[i];
            n->cols[o].name = side_name(s, side ? src->right : src->left,
                                        in->cols[i].name);
            n->jside[o] = (uint8_t)side;
            n->jcol[o] = i;
            o++;
        }
    }
    n->ncols = o;
    check_unique_cols(s, n);
    s->q->stateful = true;
    return n;
}

static struct ir_node *build_pipeline(struct sema *s, struct ast_pipeline *p,
                                      bool result)
{
    struct ir_node *n = build_source(s, p->src);
    for (int i = 0; n && i < p->ops.n; i++)
        n = build_op(s, n, p->ops.v[i], result && i == p->ops.n - 1);
    return n;
}

/* ---- queries ---- */

static void build_params(struct sema *s)
{
    struct ast_query *aq = s->aq;
    s->q->nparams = aq->params.n;
    s->q->params = alloc(s, (size_t)aq->params.n * sizeof *s->q->params);
    for (int i = 0; i < aq->params.n; i++) {
        struct ast_item *it = aq->params.v[i];
        struct ir_param *p = &s->q->params[i];
        struct scope none = {0};
        p->name = it->name;
        p->loc = it->loc;
        for (int j = 0; j < i; j++)
            if (strcmp(s->q->params[j].name, it->name) == 0)
                diag_error(s->d, it->loc, "duplicate parameter '%s'", it->name);
        s->q->nparams = i; /* a default may use earlier parameters only */
        enum hts_type t = check(s, &none, it->expr, 0);
        s->q->nparams = aq->params.n;
        if (!is_error(t) && !const_eval(it->expr, &p->value))
            diag_error(s->d, it->expr->loc, "a parameter's default must be a constant");
        else if (is_error(t))
            p->value = hts_absent(TY_ERROR);
        for (int o = 0; o < s->novr; o++) {
            struct ir_override *ov = &s->ovr[o];
            if (strcmp(ov->name, p->name) != 0 ||
                (ov->query && strcmp(ov->query, s->q->name) != 0))
                continue;
            ov->used = true;
            if (ov->value.type != p->value.type && p->value.type != TY_ERROR) {
                diag_error(s->d, it->loc, "--set %s: parameter '%s' of query "
                           "'%s' is %s, the value given is %s", ov->name,
                           p->name, s->q->name,
                           hts_type_name((enum hts_type)p->value.type),
                           hts_type_name((enum hts_type)ov->value.type));
                continue;
            }
            p->value = ov->value;
            p->set = true;
        }
    }
}

static void build_window(struct sema *s)
{
    struct ast_query *aq = s->aq;
    if (!aq->window)
        return;
    if (!const_int(s, aq->window, "a window length", 1, &s->q->window_ns))
        return;
    s->q->hop_ns = s->q->window_ns;
    if (aq->every && const_int(s, aq->every, "a window hop", 1, &s->q->hop_ns) &&
        (s->q->hop_ns > s->q->window_ns || s->q->window_ns % s->q->hop_ns))
        diag_error(s->d, aq->every->loc, "the hop of a hopping window must "
                   "divide its length");
}

static void check_windows(struct sema *s)
{
    if (s->q->window_ns)
        return;
    for (int i = 0; i < s->nodes.n; i++) {
        struct ir_node *n = s->nodes.v[i];
        if (ir_kind_stateful(n->kind)) {
            diag_error(s->d, n->loc, "%s keeps state and needs a window: add "
                       "'window 3s' (or another length) after the query's "
                       "parameters", ir_kind_text[n->kind]);
            return;
        }
    }
}

static void build_refine(struct sema *s)
{
    struct ast_query *aq = s->aq;
    if (!aq->refine)
        return;
    const char *key = aq->refine->name;
    int f = fld_lookup(key, strlen(key));
    enum hts_type t = f >= 0 ? hts_fields[f].type : TY_ERROR;
    if (t != TY_IPV4 && t != TY_IPV6) {
        diag_error(s->d, aq->refine->loc, "refine needs an address field "
                   "(ipv4.src, ipv6.dst...), not '%s'", key);
        return;
    }
    s->q->refine_key = key;
    s->q->nlevels = aq->levels.n;
    s->q->levels = alloc(s, (size_t)aq->levels.n * sizeof(int));
    int max = t == TY_IPV4 ? 32 : 128;
    for (int i = 0; i < aq->levels.n; i++) {
        int64_t v = 0;
        struct ast_expr *e = aq->levels.v[i];
        if (!const_int(s, e, "a refinement level", 1, &v))
            continue;
        if (v > max || (i > 0 && v <= s->q->levels[i - 1]))
            diag_error(s->d, e->loc, "refinement levels must increase and "
                       "stay within /%d", max);
        s->q->levels[i] = (int)v;
    }
}

/* 'network-wide': the sites hand over mergeable window state, so the query
 * must keep some, and all of it must merge (a fold's depends on the order
 * packets arrived in, which no merge of several sites can know). */
static void check_network_wide(struct sema *s)
{
    struct ast_query *aq = s->aq;
    if (!aq->network_wide)
        return;
    s->q->network_wide = true;
    if (!s->q->stateful) {
        diag_error(s->d, aq->network_loc, "a network-wide query must keep "
                   "window state to merge (a groupby, distinct, histogram or "
                   "join); '%s' is per packet: each site's rows are already "
                   "its answer", aq->name);
        return;
    }
    for (int i = 0; i < s->nodes.n; i++) {
        struct ir_node *n = s->nodes.v[i];
        if (n->kind == IR_FOLD) {
            diag_error(s->d, aq->network_loc, "a network-wide query cannot "
                       "fold: a fold's state depends on the order its packets "
                       "arrived in, which merging several sites cannot know");
            diag_note(s->d, n->loc, "the fold is here");
            return;
        }
    }
}

/* Whether e tests column col of its input against a literal so that rows
 * pass only from some value up (col >= c, col > c, c <= col, c < col): the
 * least such value in *min. */
static bool lower_bound(const struct ast_expr *e, int col, int64_t *min)
{
    if (e->kind != E_BINARY)
        return false;
    if (e->op == OP_AND)
        return lower_bound(e->a, col, min) || lower_bound(e->b, col, min);
    const struct ast_expr *c = e->a, *lit = e->b;
    enum ast_op op = e->op;
    if (op == OP_LE || op == OP_LT) {
        c = e->b;
        lit = e->a;
        op = op == OP_LE ? OP_GE : OP_GT;
    }
    if ((op != OP_GE && op != OP_GT) || c->kind != E_NAME || c->ref_kind != REF_COL ||
        c->ref != col || lit->kind != E_LIT || lit->lit.type != TY_INT)
        return false;
    int64_t v = lit->lit.u.i;
    if (op == OP_GT && v == INT64_MAX)
        return false;
    *min = op == OP_GT ? v + 1 : v;
    return true;
}

/* approx_count / approx_sum: a Count-Min sketch instead of a table of keys
 * (exec/cms.h). The sketch cannot list its keys, so the groupby keeps the
 * keys whose estimate reaches the threshold that follows it: the query
 * must say it, as `| filter name >= N` right after, and every aggregate of
 * that groupby must be a sketch (any other would keep state per key). */
static void check_sketches(struct sema *s)
{
    for (int i = 0; i < s->nodes.n; i++) {
        struct ir_node *n = s->nodes.v[i];
        if (n->kind != IR_GROUPBY)
            continue;
        int first = -1, other = -1;
        for (int a = 0; a < n->naggs; a++) {
            enum ast_agg g = n->aggs[a]->agg;
            if (g == AGG_APPROX_COUNT || g == AGG_APPROX_SUM) {
                if (first < 0)
                    first = a;
            } else if (other < 0) {
                other = a;
            }
        }
        if (first < 0)
            continue;
        const struct ast_expr *call = n->aggs[first];
        if (other >= 0) {
            diag_error(s->d, n->aggs[other]->loc, "a groupby with %s keeps no "
                       "state per key (a Count-Min sketch); '%s' would: make "
                       "every aggregate of this groupby approx_count or "
                       "approx_sum, or use count and sum", ast_agg_text[call->agg],
                       ast_agg_text[n->aggs[other]->agg]);
            diag_note(s->d, call->loc, "the sketch is asked for here");
            continue;
        }
        if (!n->nkeys) {
            diag_error(s->d, call->loc, "%s needs group keys: with none, "
                       "count() and sum() are exact in one counter",
                       ast_agg_text[call->agg]);
            continue;
        }
        struct ir_node *consumer = NULL;
        int nc = 0;
        for (int j = 0; j < s->nodes.n; j++) {
            struct ir_node *m = s->nodes.v[j];
            for (int k = 0; k < m->nin; k++)
                if (m->in[k] == n) {
                    consumer = m;
                    nc++;
                }
        }
        bool found = false;
        for (int a = 0; nc == 1 && consumer->kind == IR_FILTER && a < n->naggs && !found;
             a++) {
            if (lower_bound(consumer->expr, n->nkeys + a, &n->sketch_min) &&
                n->sketch_min >= 1) {
                n->sketch_agg = a;
                found = true;
            }
        }
        if (!found) {
            diag_error(s->d, call->loc, "%s reports heavy keys only: follow "
                       "its groupby with a threshold on it, as `| filter %s >= N` "
                       "(N at least 1), and nothing else reading the groupby",
                       ast_agg_text[call->agg], n->cols[n->nkeys + first].name);
            continue;
        }
        n->sketch = true;
    }
}

static struct ir_query *build_query(struct sema *s, struct ast_query *aq,
                                    int index)
{
    struct ir_query *q = alloc(s, sizeof *q);
    q->name = aq->name;
    q->loc = aq->loc;
    q->index = index;
    s->aq = aq;
    s->q = q;
    s->nodes = (struct ast_list){0};
    s->source = NULL;
    int nb = aq->bindings.n;
    s->bound = alloc(s, (size_t)(nb + 1) * sizeof *s->bound);
    s->state = alloc(s, (size_t)(nb + 1) * sizeof *s->state);
    s->uses = alloc(s, (size_t)(nb + 1) * sizeof *s->uses);
    for (int i = 0; i < nb; i++) {
        struct ast_binding *b = aq->bindings.v[i];
        for (int j = 0; j < i; j++)
            if (strcmp(b->name, ((struct ast_binding *)aq->bindings.v[j])->name) == 0)
                diag_error(s->d, b->loc, "duplicate sub-query '%s'", b->name);
    }
    build_params(s);
    build_window(s);
    q->root = build_pipeline(s, aq->result, true);
    check_windows(s);
    /* Unused sub-queries are still checked, but their nodes are not part of
     * the query: they must not make it windowed nor be executed. */
    int keep = s->nodes.n;
    bool stateful = q->stateful;
    for (int i = 0; i < nb; i++) {
        struct ast_binding *b = aq->bindings.v[i];
        if (!s->uses[i]) {
            diag_warning(s->d, b->loc, "sub-query '%s' is never used", b->name);
            build_binding(s, b->name, b->loc);
        }
    }
    s->nodes.n = keep;
    q->stateful = stateful;
    build_refine(s);
    check_sketches(s);
    check_network_wide(s);
    q->nodes = (struct ir_node **)s->nodes.v;
    q->nnodes = s->nodes.n;
    q->per_packet = !q->stateful;
    return q;
}

struct ir_program *sema_build(struct arena *arena, struct diag *d,
                              struct ast_file **files, int nfiles,
                              struct ir_override *ovr, int novr)
{
    struct sema s = {.arena = arena, .d = d, .ovr = ovr, .novr = novr};
    int before = d->errors;
    struct ir_program *p = alloc(&s, sizeof *p);
    int total = 0;
    for (int f = 0; f < nfiles; f++)
        total += files[f]->queries.n;
    p->queries = alloc(&s, (size_t)(total + 1) * sizeof *p->queries);
    for (int f = 0; f < nfiles; f++) {
        for (int i = 0; i < files[f]->queries.n; i++) {
            struct ast_query *aq = files[f]->queries.v[i];
            for (int j = 0; j < p->nqueries; j++) {
                if (strcmp(p->queries[j]->name, aq->name) == 0) {
                    diag_error(d, aq->loc, "duplicate query '%s'", aq->name);
                    diag_note(d, p->queries[j]->loc, "'%s' was first defined here",
                              aq->name);
                }
            }
            p->queries[p->nqueries] = build_query(&s, aq, p->nqueries);
            p->nqueries++;
        }
    }
    for (int o = 0; o < novr; o++)
        if (!ovr[o].used)
            diag_error(d, (struct loc){0}, "--set %s%s%s: no query has a "
                       "parameter '%s'", ovr[o].query ? ovr[o].query : "",
                       ovr[o].query ? "." : "", ovr[o].name, ovr[o].name);
    return d->errors > before ? NULL : p;
}
